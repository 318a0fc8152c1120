import type { CertificateStore } from '../certificates/certificate-store.js';
import type { GraphClient, GraphSubscription, NewSubscription } from '../graph/graph-client.js';
import { isGraphRequestError } from '../graph/graph-client.js';
import { RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EndpointCheckResult } from './endpoint-check.js';
import { describeAccessRefusal, isQuotaRefusal } from './graph-refusal.js';
import type { BlobLeaseLock } from './blob-lease-lock.js';
import { describeClientStateUse, type ClientStateUse, type ConfiguredClientStates } from './client-state-fingerprint.js';
import type { DesiredSubscription } from './desired-subscriptions.js';
import type { ResyncEvents } from './resync-events.js';
import { carriedGapWindows, type SubscriptionRecord, type SubscriptionRecords } from './subscription-records.js';

export type EntryAction = 'created' | 'adopted' | 'renewed' | 'rotated' | 'recreated' | 'unchanged' | 'failed' | 'skipped';

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
  /**
   * Graph's validation handshake against our own URLs, run before an entry's subscription is created, so
   * that a wrong key or an unreachable app is reported by name instead of as Graph's generic 400; or why it
   * is off (SUBSCRIPTIONS_CHECK_ENDPOINTS=false), logged once, at the first creation without it.
   */
  readonly endpointCheck?: { readonly run: () => Promise<readonly EndpointCheckResult[]> } | { readonly off: string };
  readonly now?: () => number;
  readonly logger: Logger;
}

type Certificate = Awaited<ReturnType<CertificateStore['current']>>;

const MINUTE = 60_000;

/** Our notification or lifecycle URL would fail Graph's validation handshake: nothing is created. */
export class EndpointCheckFailedError extends RelayError {
  constructor(failed: readonly EndpointCheckResult[]) {
    super('ERR_ENDPOINT_CHECK', `Graph's validation handshake would fail: ${failed.map((r) => `${r.name} ${r.url}: ${r.failure} (${r.detail})`).join('; ')}`);
  }
}
/** After a 403 (quota or permission), wait this long before asking Graph again, unless forced. */
const FORBIDDEN_BACKOFF_MS = 60 * MINUTE;
/** The resource without its licensing model, which PATCH cannot change: a different model means recreate. */
const norm = (resource: string) => {
  const [path = '', query = ''] = decodeURIComponent(resource.replace(/^\/+/, '')).split('?', 2);
  const params = new URLSearchParams(query);
  params.delete('model');
  const rest = [...params]
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
  return `${path}${rest ? `?${rest}` : ''}`.toLowerCase();
};
const modelOf = (resource: string) => new URLSearchParams(resource.split('?', 2)[1] ?? '').get('model') ?? '';
const types = (changeType: string | readonly string[]) =>
  (typeof changeType === 'string' ? changeType.split(',') : [...changeType])
    .map((c) => c.trim().toLowerCase())
    .sort()
    .join(',');

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
  readonly #o: SubscriptionReconcilerOptions;
  readonly #now: () => number;
  #endpoints: { at: number; results: readonly EndpointCheckResult[] } | undefined;
  #endpointCheckOffLogged = false;

  constructor(options: SubscriptionReconcilerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get desired(): readonly DesiredSubscription[] {
    return this.#o.desired;
  }

  /** Which configured secret a recorded subscription uses, by position (never the value). */
  clientStateOf(record: SubscriptionRecord | undefined): ClientStateUse | undefined {
    if (!record?.subscriptionId) return undefined;
    return this.#o.clientStates.useOf({ ...(record.clientStateFingerprint ? { fingerprint: record.clientStateFingerprint } : {}) });
  }

  reconcile(options: { force?: boolean } = {}): Promise<ReconcileReport> {
    return this.#o.lock.run(async () => {
      const ours = await this.#ours();
      const entries: EntryResult[] = [];
      const claimed = new Set<string>();
      for (const d of this.#o.desired) {
        const result = await this.#reconcileEntry(d, ours, options.force ?? false);
        if (result.subscriptionId) claimed.add(result.subscriptionId);
        entries.push(result);
      }
      const undesired: ReconcileReport['undesired'] = [];
      for (const s of ours) {
        if (claimed.has(s.id)) continue;
        if (this.#o.deleteUndesired) {
          await this.#o.graph.deleteSubscription(s.id).catch((e) => {
            if (!isGraphRequestError(e, 404)) throw e;
          });
          undesired.push({ id: s.id, resource: s.resource, action: 'deleted' });
        } else {
          undesired.push({ id: s.id, resource: s.resource, action: 'kept' });
        }
      }
      const summary = Object.fromEntries(['created', 'adopted', 'renewed', 'rotated', 'recreated', 'unchanged', 'failed', 'skipped'].map((a) => [a, entries.filter((e) => e.action === a).length]));
      this.#o.logger.info('subscriptions.reconciled', { ...summary, undesired: undesired.length });
      for (const e of entries.filter((x) => x.action === 'failed')) this.#o.logger.error('subscriptions.entry_failed', { name: e.name, error: e.error });
      return { entries, undesired };
    });
  }

  /** Reconciles one desired entry (after subscriptionRemoved, say), under the same lock. */
  reconcileOne(name: string): Promise<EntryResult> {
    const d = this.#o.desired.find((x) => x.name === name);
    if (!d) return Promise.resolve({ name, action: 'failed', error: 'not a desired subscription' });
    return this.#o.lock.run(async () => this.#reconcileEntry(d, await this.#ours(), true));
  }

  /** Renews one subscription now (reauthorizationRequired when reauthorize failed). */
  async renew(record: SubscriptionRecord): Promise<EntryResult> {
    const d = this.#o.desired.find((x) => x.name === record.name);
    if (!d || !record.subscriptionId) return this.reconcileOne(record.name);
    try {
      const updated = await this.#o.graph.updateSubscription(record.subscriptionId, { expirationDateTime: this.#target(d) });
      return this.#save(d, 'renewed', updated, record, record.clientStateFingerprint);
    } catch (e) {
      if (isGraphRequestError(e, 404)) return this.reconcileOne(record.name);
      throw e;
    }
  }

  async #ours(): Promise<GraphSubscription[]> {
    const versions = new Set(this.#o.desired.map((d) => d.version));
    const lists = await Promise.all([...versions].map((v) => this.#o.graph.listSubscriptions(v)));
    const seen = new Set<string>();
    return lists.flat().filter((s) => s.notificationUrl === this.#o.notificationUrl && !seen.has(s.id) && seen.add(s.id));
  }

  #target(d: DesiredSubscription): string {
    return new Date(this.#now() + d.lifetimeMinutes * MINUTE - MINUTE).toISOString();
  }

  #matches(s: GraphSubscription, d: DesiredSubscription): boolean {
    return norm(s.resource) === norm(d.resource) && types(s.changeType) === types(d.changeTypes);
  }

  async #reconcileEntry(d: DesiredSubscription, ours: GraphSubscription[], force: boolean): Promise<EntryResult> {
    const record = await this.#o.records.get(d.name);
    // An open gap is ours to close: never held back.
    const gapOpen = !!record?.gapFrom && !record.gapTo;
    if (!force && !gapOpen && record?.lastErrorStatus === 403 && record.lastErrorAt && this.#now() - Date.parse(record.lastErrorAt) < FORBIDDEN_BACKOFF_MS) {
      return { name: d.name, action: 'skipped', error: record.lastError ?? 'forbidden' };
    }
    try {
      const cert: Certificate | undefined = d.includeResourceData ? await this.#o.certificates.current() : undefined;
      const existing = ours.find((s) => s.id === record?.subscriptionId && this.#matches(s, d)) ?? ours.find((s) => this.#matches(s, d)) ?? this.#edited(d, ours, record);
      if (!existing) return await this.#create(d, cert, this.#lost(record), 'created', ours);

      const typesEdited = types(existing.changeType) !== types(d.changeTypes);
      const needsRecreate =
        typesEdited ||
        (existing.includeResourceData ?? false) !== d.includeResourceData ||
        existing.lifecycleNotificationUrl !== this.#o.lifecycleUrl ||
        modelOf(existing.resource) !== modelOf(d.resource);
      const use = this.#o.clientStates.useOf({
        ...(existing.clientState !== undefined ? { clientState: existing.clientState } : {}),
        ...(record?.subscriptionId === existing.id && record.clientStateFingerprint ? { fingerprint: record.clientStateFingerprint } : {}),
      });
      const onCurrentSecret = typeof use === 'object' && use.position === 1;
      if (needsRecreate || !onCurrentSecret) {
        const reason = typesEdited ? 'change_types_edited' : needsRecreate ? 'unpatchable_change' : `client_state_${describeClientStateUse(use).split(' ')[0]}`;
        return await this.#replace(d, existing, cert, record, ours, reason);
      }
      const patch: { encryptionCertificate?: string; encryptionCertificateId?: string; expirationDateTime?: string } = {};
      let action: EntryAction = 'unchanged';
      if (cert && existing.encryptionCertificateId !== cert.id) {
        patch.encryptionCertificate = cert.certificateBase64;
        patch.encryptionCertificateId = cert.id;
        action = 'rotated';
      }
      const remaining = Date.parse(existing.expirationDateTime) - this.#now();
      const window = Math.min(this.#o.renewWithinMinutes, d.lifetimeMinutes / 2) * MINUTE;
      if (remaining < window || action === 'rotated') {
        patch.expirationDateTime = this.#target(d);
        if (action === 'unchanged') action = 'renewed';
      }
      const fingerprint = this.#o.clientStates.currentFingerprint;
      if (action === 'unchanged') return this.#save(d, 'unchanged', existing, record, fingerprint);
      try {
        return this.#save(d, action, await this.#o.graph.updateSubscription(existing.id, patch), record, fingerprint);
      } catch (e) {
        if (!isGraphRequestError(e, 404)) throw e;
        ours.splice(ours.indexOf(existing), 1);
        return await this.#create(d, cert, this.#lost(record), 'recreated', ours);
      }
    } catch (e) {
      return this.#fail(d, record, e);
    }
  }

  /**
   * The subscription of an entry whose `changeTypes` were edited: ours on the same resource, with other
   * changeTypes that no other desired entry asks for (its own subscription first). PATCH cannot change
   * changeType, so it is replaced.
   */
  #edited(d: DesiredSubscription, ours: readonly GraphSubscription[], record: SubscriptionRecord | undefined): GraphSubscription | undefined {
    const wantedElsewhere = (s: GraphSubscription) => this.#o.desired.some((o) => o !== d && this.#matches(s, o));
    const candidates = ours.filter((s) => norm(s.resource) === norm(d.resource) && !wantedElsewhere(s));
    return candidates.find((s) => s.id === record?.subscriptionId) ?? candidates[0];
  }

  /**
   * The record of an entry whose subscription Graph no longer has (removed, expired, deleted by someone):
   * a gap opens when the app last saw it alive (`seenAt`, never moved by a failed run; a record from before
   * it has its last update), or at its expiry if earlier, so that the subscription created now closes it and
   * the window is announced and read back.
   */
  #lost(record: SubscriptionRecord | undefined): SubscriptionRecord | undefined {
    if (!record?.subscriptionId || (record.gapFrom && !record.gapTo)) return record;
    const seen = Math.min(Date.parse(record.seenAt ?? record.updatedAt), record.expiresAt ? Date.parse(record.expiresAt) : Number.POSITIVE_INFINITY);
    const { gapTo: _closed, ...rest } = record;
    return { ...rest, ...carriedGapWindows(record), gapFrom: new Date(Number.isFinite(seen) ? seen : this.#now()).toISOString(), gapSubscriptionId: record.subscriptionId };
  }

  /** Records the failure on the entry's latest record (which may point at nothing after a delete). */
  async #fail(d: DesiredSubscription, record: SubscriptionRecord | undefined, e: unknown): Promise<EntryResult> {
    const status = isGraphRequestError(e) ? e.status : undefined;
    const message = isGraphRequestError(e, 403) && !isQuotaRefusal(e) ? describeAccessRefusal(e, d.catalog) : (e as Error).message;
    await this.#o.records.save({
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
   * first where Graph allows two; where it refuses (409 same resource and changeType, 403 one per chat or
   * another quota; never a 403 for access, which the new one would meet too), delete then create, with the gap recorded before the delete so that neither a crash nor a failed
   * create loses it: the record then points at nothing and the next run creates the subscription.
   */
  async #replace(
    d: DesiredSubscription,
    existing: GraphSubscription,
    cert: Certificate | undefined,
    record: SubscriptionRecord | undefined,
    ours: GraphSubscription[],
    reason: string,
  ): Promise<EntryResult> {
    this.#o.logger.info('subscriptions.replacing', { name: d.name, subscriptionId: existing.id, reason });
    try {
      const created = await this.#o.graph.createSubscription(this.#newSubscription(d, cert), d.version);
      ours.push(created);
      try {
        await this.#delete(existing.id);
        ours.splice(ours.indexOf(existing), 1);
      } catch (e) {
        // Two subscriptions deliver for now (duplicates, no loss); the old one is undesired from here on.
        this.#o.logger.warn('subscriptions.delete_failed', { name: d.name, subscriptionId: existing.id, error: (e as Error).message });
      }
      return await this.#save(d, 'recreated', created, record, this.#o.clientStates.currentFingerprint);
    } catch (e) {
      // A refused access (permission, protected API, licensing) would refuse the new one too: keep the old.
      if (!isGraphRequestError(e, 409) && !(isGraphRequestError(e, 403) && isQuotaRefusal(e))) throw e;
    }
    const now = new Date(this.#now()).toISOString();
    // A gap still open (a create whose answer was lost, say) is widened, never forgotten.
    const open = record?.gapFrom && !record.gapTo ? record : undefined;
    const gap: SubscriptionRecord = {
      name: d.name,
      resource: d.resource,
      changeTypes: d.changeTypes.join(','),
      ...(record?.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}),
      ...carriedGapWindows(record),
      gapFrom: open?.gapFrom ?? now,
      gapSubscriptionId: open?.gapSubscriptionId ?? existing.id,
      lastAction: 'deleted',
      updatedAt: now,
    };
    await this.#o.records.save(gap);
    try {
      await this.#delete(existing.id);
      ours.splice(ours.indexOf(existing), 1);
      const created = await this.#o.graph.createSubscription(this.#newSubscription(d, cert), d.version);
      ours.push(created);
      return await this.#save(d, 'recreated', created, gap, this.#o.clientStates.currentFingerprint);
    } catch (e) {
      return this.#fail(d, gap, e);
    }
  }

  async #delete(id: string): Promise<void> {
    await this.#o.graph.deleteSubscription(id).catch((e) => {
      if (!isGraphRequestError(e, 404)) throw e;
    });
  }

  /**
   * Creates an entry's subscription in Graph, once our endpoints passed the handshake check (at most once a
   * minute). Replacements skip it: the subscription they replace shows the endpoints work, and a failed
   * check must not stop a replacement half-way.
   */
  async #createInGraph(d: DesiredSubscription, cert: Certificate | undefined): Promise<GraphSubscription> {
    const check = this.#o.endpointCheck;
    if (check && 'run' in check) {
      if (!this.#endpoints || this.#now() - this.#endpoints.at > MINUTE) this.#endpoints = { at: this.#now(), results: await check.run() };
      const failed = this.#endpoints.results.filter((r) => !r.ok);
      if (failed.length > 0) throw new EndpointCheckFailedError(failed);
    } else if (check && !this.#endpointCheckOffLogged) {
      this.#endpointCheckOffLogged = true;
      this.#o.logger.info('subscriptions.endpoint_check_off', { reason: check.off });
    }
    return this.#o.graph.createSubscription(this.#newSubscription(d, cert), d.version);
  }

  #newSubscription(d: DesiredSubscription, cert: Certificate | undefined): NewSubscription {
    return {
      resource: d.resource,
      changeType: d.changeTypes.join(','),
      notificationUrl: this.#o.notificationUrl,
      lifecycleNotificationUrl: this.#o.lifecycleUrl,
      expirationDateTime: this.#target(d),
      clientState: this.#o.clientStates.current,
      includeResourceData: d.includeResourceData,
      latestSupportedTlsVersion: 'v1_2',
      ...(cert ? { encryptionCertificate: cert.certificateBase64, encryptionCertificateId: cert.id } : {}),
    };
  }

  async #create(d: DesiredSubscription, cert: Certificate | undefined, record: SubscriptionRecord | undefined, action: EntryAction, ours: GraphSubscription[]): Promise<EntryResult> {
    try {
      const created = await this.#createInGraph(d, cert);
      ours.push(created);
      return await this.#save(d, action, created, record, this.#o.clientStates.currentFingerprint);
    } catch (e) {
      if (!isGraphRequestError(e, 409)) throw e;
      // It exists already (another deployment or a lost record): adopt it.
      const found = (await this.#o.graph.listSubscriptions(d.version)).find((s) => this.#matches(s, d));
      if (!found) throw e;
      ours.push(found);
      // Its secret is known only if Graph says it; otherwise the next run brings it onto the current one.
      const use = this.#o.clientStates.useOf({ clientState: found.clientState ?? null });
      return await this.#save(d, 'adopted', found, record, typeof use === 'object' && use.position === 1 ? this.#o.clientStates.currentFingerprint : undefined);
    }
  }

  /**
   * Records the entry's subscription. When the record had an open gap, this subscription closes it: the gap
   * gets its end and a resync event names the window (published first: a duplicate event, never a lost one).
   */
  async #save(d: DesiredSubscription, action: EntryAction, s: GraphSubscription, record: SubscriptionRecord | undefined, fingerprint: string | undefined): Promise<EntryResult> {
    const now = new Date(this.#now()).toISOString();
    const renewed = action !== 'unchanged' && action !== 'adopted';
    const gap = {
      ...(record?.earlierGaps ? { earlierGaps: record.earlierGaps } : {}),
      ...(record?.gapFrom ? { gapFrom: record.gapFrom, gapTo: record.gapTo ?? now, ...(record.gapSubscriptionId ? { gapSubscriptionId: record.gapSubscriptionId } : {}) } : {}),
    };
    if (record?.gapFrom && !record.gapTo) {
      await this.#o.resync.publish({
        reason: 'subscriptionRecreated',
        tenantId: this.#o.tenantId,
        record: { name: d.name, resource: d.resource, changeTypes: d.changeTypes.join(','), ...(record.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}) },
        subscriptionId: record.gapSubscriptionId ?? s.id,
        newSubscriptionId: s.id,
        gap: { from: record.gapFrom, to: now },
        time: now,
      });
      this.#o.logger.warn('subscriptions.gap', { name: d.name, from: record.gapFrom, to: now, subscriptionId: s.id });
    }
    await this.#o.records.save({
      name: d.name,
      subscriptionId: s.id,
      resource: d.resource,
      changeTypes: d.changeTypes.join(','),
      expiresAt: s.expirationDateTime,
      ...(renewed ? { lastRenewedAt: now } : record?.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}),
      ...(s.encryptionCertificateId ? { certificateId: s.encryptionCertificateId } : {}),
      ...(fingerprint ? { clientStateFingerprint: fingerprint } : {}),
      ...gap,
      lastAction: action,
      seenAt: now,
      updatedAt: now,
    });
    if (action !== 'unchanged') this.#o.logger.info(`subscriptions.${action}`, { name: d.name, subscriptionId: s.id, expiresAt: s.expirationDateTime });
    return { name: d.name, action, subscriptionId: s.id, expiresAt: s.expirationDateTime };
  }
}
