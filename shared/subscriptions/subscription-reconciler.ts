import type { CertificateStore, EncryptionCertificate } from '../certificates/certificate-store.js';
import type { GraphClient, GraphSubscription, NewSubscription } from '../graph/graph-client.js';
import { isGraphRequestError } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { PreCreateCheck, type EndpointCheck } from './pre-create-check.js';
import { describeAccessRefusal, isQuotaRefusal } from './graph-refusal.js';
import type { BlobLeaseLock } from './blob-lease-lock.js';
import type { ClientStateUse, ConfiguredClientStates } from './client-state-fingerprint.js';
import type { DesiredSubscription } from './desired-subscriptions.js';
import type { ResyncEvents } from './resync-events.js';
import {
  adoptionAfterConflict,
  afterPatchFailed,
  decideEntry,
  deletesFirst,
  expiryFor,
  gapRecordBeforeDelete,
  heldBack,
  savedRecord,
  type EntryAction,
  type EntryDecision,
  type ReplaceReason,
} from './reconcile-decision.js';
import type { SubscriptionRecord, SubscriptionRecords } from './subscription-records.js';

export interface EntryResult {
  readonly name: string;
  readonly action: EntryAction;
  readonly subscriptionId?: string;
  readonly expiresAt?: string;
  readonly error?: string;
}

export interface ReconcileReport {
  readonly entries: EntryResult[];
  readonly undesired: { readonly id: string; readonly resource: string; readonly action: 'deleted' | 'kept' }[];
  /** The app's subscriptions (our notification URL) Graph holds in the tenant after the run: what counts against its quota. */
  readonly held: number;
}

export interface SubscriptionReconcilerOptions {
  readonly graph: GraphClient;
  readonly certificates: CertificateStore;
  readonly records: SubscriptionRecords;
  readonly lock: BlobLeaseLock;
  readonly desired: readonly DesiredSubscription[];
  readonly notificationUrl: string;
  readonly lifecycleUrl: string;
  /** GRAPH_CLIENT_STATE: every subscription is brought onto the first. */
  readonly clientStates: ConfiguredClientStates;
  /** Where a window without subscription is announced (SUBSCRIPTION_EVENTS_QUEUE). */
  readonly resync: ResyncEvents;
  /** The tenant the app's subscriptions live in (the source of resync events). */
  readonly tenantId: string;
  /** Renew what expires within this many minutes (at most half a subscription's lifetime). */
  readonly renewWithinMinutes: number;
  readonly deleteUndesired: boolean;
  /** The handshake before a create, or why it is off (SUBSCRIPTIONS_CHECK_ENDPOINTS=false). */
  readonly endpointCheck?: EndpointCheck;
  /** Asked once the lease is held: a tenant removed while this run waited for it is left alone. */
  readonly stillServed?: () => Promise<boolean>;
  readonly now?: () => number;
  readonly logger: Logger;
}

/**
 * Makes Graph hold exactly the desired subscriptions, alive: creates what is missing, adopts what exists
 * (409), renews what expires soon, PATCHes to a rotated certificate, recreates what PATCH cannot change
 * (changeTypes, licensing model, resource data, lifecycle URL, a clientState other than the first configured) or what
 * Graph lost (404), deletes undesired ones only when allowed, and records each entry's state. A recreation
 * creates the new subscription before deleting the old; where Graph refuses two (409, 403) it deletes first,
 * records the window without subscription as the entry's gap and announces it with a resync event. Runs
 * under a blob lease: two at once do not duplicate anything.
 */
export class SubscriptionReconciler {
  readonly #graph: GraphClient;
  readonly #certificates: CertificateStore;
  readonly #records: SubscriptionRecords;
  readonly #lock: BlobLeaseLock;
  readonly #desired: readonly DesiredSubscription[];
  readonly #notificationUrl: string;
  readonly #lifecycleUrl: string;
  readonly #clientStates: ConfiguredClientStates;
  readonly #resync: ResyncEvents;
  readonly #tenantId: string;
  readonly #renewWithinMinutes: number;
  readonly #deleteUndesired: boolean;
  readonly #preCreate: PreCreateCheck;
  readonly #stillServed: (() => Promise<boolean>) | undefined;
  readonly #now: () => number;
  readonly #logger: Logger;

  constructor(options: SubscriptionReconcilerOptions) {
    this.#graph = options.graph;
    this.#certificates = options.certificates;
    this.#records = options.records;
    this.#lock = options.lock;
    this.#desired = options.desired;
    this.#notificationUrl = options.notificationUrl;
    this.#lifecycleUrl = options.lifecycleUrl;
    this.#clientStates = options.clientStates;
    this.#resync = options.resync;
    this.#tenantId = options.tenantId;
    this.#renewWithinMinutes = options.renewWithinMinutes;
    this.#deleteUndesired = options.deleteUndesired;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#preCreate = new PreCreateCheck(options.endpointCheck, this.#now, options.logger);
    this.#stillServed = options.stillServed;
  }

  get desired(): readonly DesiredSubscription[] {
    return this.#desired;
  }

  /** Which configured secret a recorded subscription uses, by position (never the value). */
  clientStateOf(record: SubscriptionRecord | undefined): ClientStateUse | undefined {
    if (!record?.subscriptionId) return undefined;
    return this.#clientStates.useOf({ ...(record.clientStateFingerprint ? { fingerprint: record.clientStateFingerprint } : {}) });
  }

  reconcile(options: { force?: boolean } = {}): Promise<ReconcileReport> {
    return this.#lock.run(async () => {
      if (this.#stillServed && !(await this.#stillServed())) {
        this.#logger.info('subscriptions.tenant_not_served', { tenantId: this.#tenantId });
        return { entries: [], undesired: [], held: 0 };
      }
      const ours = await this.#ours();
      const entries: EntryResult[] = [];
      const claimed = new Set<string>();
      for (const d of this.#desired) {
        const result = await this.#reconcileEntry(d, ours, options.force ?? false);
        if (result.subscriptionId) claimed.add(result.subscriptionId);
        entries.push(result);
      }
      const undesired: ReconcileReport['undesired'] = [];
      for (const s of ours) {
        if (claimed.has(s.id)) continue;
        if (this.#deleteUndesired) await this.#delete(s.id);
        undesired.push({ id: s.id, resource: s.resource, action: this.#deleteUndesired ? 'deleted' : 'kept' });
      }
      const summary = Object.fromEntries(['created', 'adopted', 'renewed', 'rotated', 'recreated', 'unchanged', 'failed', 'skipped'].map((a) => [a, entries.filter((e) => e.action === a).length]));
      const held = claimed.size + undesired.filter((u) => u.action === 'kept').length;
      this.#logger.info('subscriptions.reconciled', { tenantId: this.#tenantId, ...summary, undesired: undesired.length, held });
      for (const e of entries.filter((x) => x.action === 'failed')) this.#logger.error('subscriptions.entry_failed', { name: e.name, error: e.error });
      return { entries, undesired, held };
    });
  }

  /** Deletes every subscription of ours in the tenant, desired or not (a tenant offboarded); returns their ids. */
  removeAll(): Promise<string[]> {
    return this.#lock.run(async () => {
      const ours = await this.#ours();
      for (const s of ours) await this.#delete(s.id);
      this.#logger.info('subscriptions.removed_all', { tenantId: this.#tenantId, deleted: ours.length });
      return ours.map((s) => s.id);
    });
  }

  /** Reconciles one desired entry (after subscriptionRemoved, say), under the same lock. */
  reconcileOne(name: string): Promise<EntryResult> {
    const d = this.#desired.find((x) => x.name === name);
    if (!d) return Promise.resolve({ name, action: 'failed', error: 'not a desired subscription' });
    return this.#lock.run(async () => this.#reconcileEntry(d, await this.#ours(), true));
  }

  /** Renews one subscription now (reauthorizationRequired when reauthorize failed). */
  async renew(record: SubscriptionRecord): Promise<EntryResult> {
    const d = this.#desired.find((x) => x.name === record.name);
    if (!d || !record.subscriptionId) return this.reconcileOne(record.name);
    try {
      const updated = await this.#graph.updateSubscription(record.subscriptionId, { expirationDateTime: expiryFor(d, this.#now()) });
      return this.#save(d, 'renewed', updated, record, record.clientStateFingerprint);
    } catch (e) {
      if (isGraphRequestError(e, 404)) return this.reconcileOne(record.name);
      throw e;
    }
  }

  async #ours(): Promise<GraphSubscription[]> {
    // v1.0 always: an entry removed from the file (or a tenant offboarded) may have left subscriptions there.
    const versions = new Set(['v1.0' as const, ...this.#desired.map((d) => d.version)]);
    const lists = await Promise.all([...versions].map((v) => this.#graph.listSubscriptions(v)));
    const seen = new Set<string>();
    return lists.flat().filter((s) => s.notificationUrl === this.#notificationUrl && !seen.has(s.id) && seen.add(s.id));
  }

  async #reconcileEntry(d: DesiredSubscription, ours: GraphSubscription[], force: boolean): Promise<EntryResult> {
    const record = await this.#records.get(d.name);
    // Held back before the certificate is read: a skipped entry asks nothing of anyone.
    const skipped = heldBack(record, this.#now(), force);
    if (skipped !== undefined) return { name: d.name, action: 'skipped', error: skipped };
    try {
      const cert = d.includeResourceData ? await this.#certificates.current() : undefined;
      const decision = decideEntry({
        desired: d,
        allDesired: this.#desired,
        record,
        ours,
        certificate: cert,
        lifecycleUrl: this.#lifecycleUrl,
        clientStateUse: (evidence) => this.#clientStates.useOf(evidence),
        renewWithinMinutes: this.#renewWithinMinutes,
        now: this.#now(),
      });
      return await this.#carryOut(d, decision, cert, record, ours);
    } catch (e) {
      return this.#fail(d, record, e);
    }
  }

  /** Asks Graph what the decision says; `ours` follows what Graph holds, for the entries after this one. */
  async #carryOut(d: DesiredSubscription, decision: EntryDecision, cert: EncryptionCertificate | undefined, record: SubscriptionRecord | undefined, ours: GraphSubscription[]): Promise<EntryResult> {
    switch (decision.do) {
      case 'create':
        return this.#create(d, cert, decision.record, decision.action, ours);
      case 'replace':
        return this.#replace(d, decision.existing, cert, record, ours, decision.reason);
      case 'keep':
        return this.#save(d, 'unchanged', decision.existing, record, this.#clientStates.currentFingerprint);
      case 'patch': {
        const fingerprint = this.#clientStates.currentFingerprint;
        try {
          return this.#save(d, decision.action, await this.#graph.updateSubscription(decision.existing.id, decision.patch), record, fingerprint);
        } catch (e) {
          const next = afterPatchFailed(e, record, this.#now());
          if (!next) throw e;
          ours.splice(ours.indexOf(decision.existing), 1);
          return this.#carryOut(d, next, cert, record, ours);
        }
      }
    }
  }

  /** Records the failure on the entry's latest record (which may point at nothing after a delete). */
  async #fail(d: DesiredSubscription, record: SubscriptionRecord | undefined, e: unknown): Promise<EntryResult> {
    const status = isGraphRequestError(e) ? e.status : undefined;
    const message = isGraphRequestError(e, 403) && !isQuotaRefusal(e) ? describeAccessRefusal(e, d.catalog) : (e as Error).message;
    await this.#records.save({
      ...(record ?? { name: d.name, resource: d.resource, changeTypes: d.changeTypes.join(',') }),
      name: d.name,
      lastAction: 'failed',
      lastError: message,
      ...(status !== undefined ? { lastErrorStatus: status } : {}),
      lastErrorAt: new Date(this.#now()).toISOString(),
      updatedAt: new Date(this.#now()).toISOString(),
    });
    return { name: d.name, action: 'failed', error: message, ...(record?.subscriptionId ? { subscriptionId: record.subscriptionId } : {}) };
  }

  /**
   * Replaces `existing` with a new subscription (current clientState, certificate, lifecycle URL): create
   * first where Graph allows two; where it refuses (deletesFirst), delete then create, with the gap recorded
   * before the delete so that neither a crash nor a failed create loses it: the record then points at nothing
   * and the next run creates the subscription.
   */
  async #replace(
    d: DesiredSubscription,
    existing: GraphSubscription,
    cert: EncryptionCertificate | undefined,
    record: SubscriptionRecord | undefined,
    ours: GraphSubscription[],
    reason: ReplaceReason,
  ): Promise<EntryResult> {
    this.#logger.info('subscriptions.replacing', { name: d.name, subscriptionId: existing.id, reason });
    try {
      const created = await this.#graph.createSubscription(this.#newSubscription(d, cert), d.version);
      ours.push(created);
      try {
        await this.#delete(existing.id);
        ours.splice(ours.indexOf(existing), 1);
      } catch (e) {
        // Two subscriptions deliver for now (duplicates, no loss); the old one is undesired from here on.
        this.#logger.warn('subscriptions.delete_failed', { name: d.name, subscriptionId: existing.id, error: (e as Error).message });
      }
      return await this.#save(d, 'recreated', created, record, this.#clientStates.currentFingerprint);
    } catch (e) {
      if (!deletesFirst(e)) throw e;
    }
    const gap = gapRecordBeforeDelete(d, record, existing.id, this.#now());
    await this.#records.save(gap);
    try {
      await this.#delete(existing.id);
      ours.splice(ours.indexOf(existing), 1);
      const created = await this.#graph.createSubscription(this.#newSubscription(d, cert), d.version);
      ours.push(created);
      return await this.#save(d, 'recreated', created, gap, this.#clientStates.currentFingerprint);
    } catch (e) {
      return this.#fail(d, gap, e);
    }
  }

  async #delete(id: string): Promise<void> {
    await this.#graph.deleteSubscription(id).catch((e) => {
      if (!isGraphRequestError(e, 404)) throw e;
    });
  }

  #newSubscription(d: DesiredSubscription, cert: EncryptionCertificate | undefined): NewSubscription {
    return {
      resource: d.resource,
      changeType: d.changeTypes.join(','),
      notificationUrl: this.#notificationUrl,
      lifecycleNotificationUrl: this.#lifecycleUrl,
      expirationDateTime: expiryFor(d, this.#now()),
      clientState: this.#clientStates.current,
      includeResourceData: d.includeResourceData,
      latestSupportedTlsVersion: 'v1_2',
      ...(cert ? { encryptionCertificate: cert.certificateBase64, encryptionCertificateId: cert.id } : {}),
    };
  }

  /**
   * Creates an entry's subscription in Graph (adopting it on 409), once our endpoints passed the handshake
   * check (at most once a minute). Replacements skip the check: the subscription they replace shows the
   * endpoints work, and a failed check must not stop a replacement half-way.
   */
  async #create(d: DesiredSubscription, cert: EncryptionCertificate | undefined, record: SubscriptionRecord | undefined, action: EntryAction, ours: GraphSubscription[]): Promise<EntryResult> {
    try {
      await this.#preCreate.pass();
      const created = await this.#graph.createSubscription(this.#newSubscription(d, cert), d.version);
      ours.push(created);
      return await this.#save(d, action, created, record, this.#clientStates.currentFingerprint);
    } catch (e) {
      if (!isGraphRequestError(e, 409)) throw e;
      const adopted = adoptionAfterConflict(d, await this.#graph.listSubscriptions(d.version), (evidence) => this.#clientStates.useOf(evidence));
      if (!adopted) throw e;
      ours.push(adopted.subscription);
      return await this.#save(d, 'adopted', adopted.subscription, record, adopted.onCurrentSecret ? this.#clientStates.currentFingerprint : undefined);
    }
  }

  /**
   * Records the entry's subscription. When the record had an open gap, this subscription closes it: the gap
   * gets its end and a resync event names the window (published first: a duplicate event, never a lost one).
   */
  async #save(d: DesiredSubscription, action: EntryAction, s: GraphSubscription, record: SubscriptionRecord | undefined, fingerprint: string | undefined): Promise<EntryResult> {
    const at = this.#now();
    const now = new Date(at).toISOString();
    if (record?.gapFrom && !record.gapTo) {
      await this.#resync.publish({
        reason: 'subscriptionRecreated',
        tenantId: this.#tenantId,
        record: { name: d.name, resource: d.resource, changeTypes: d.changeTypes.join(','), ...(record.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}) },
        subscriptionId: record.gapSubscriptionId ?? s.id,
        newSubscriptionId: s.id,
        gap: { from: record.gapFrom, to: now },
        time: now,
      });
      this.#logger.warn('subscriptions.gap', { name: d.name, from: record.gapFrom, to: now, subscriptionId: s.id });
    }
    await this.#records.save(savedRecord(d, action, s, record, fingerprint, at));
    if (action !== 'unchanged') this.#logger.info(`subscriptions.${action}`, { name: d.name, subscriptionId: s.id, expiresAt: s.expirationDateTime });
    return { name: d.name, action, subscriptionId: s.id, expiresAt: s.expirationDateTime };
  }
}
