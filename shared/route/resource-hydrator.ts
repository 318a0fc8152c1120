import { RelayError } from '../errors.js';
import { isGraphRequestError, type GraphClient } from '../graph/graph-client.js';
import type { ChangeNotification } from '../protocol/notification.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import { HomeTenantOnlyCredentialError } from '../graph/tenant-credentials.js';
import type { DesiredSubscriptionSource } from '../subscriptions/tenant-desired-subscriptions.js';
import type { SubscriptionManager } from '../subscriptions/create-subscription-manager.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { kindNamed } from '../kinds/teams-kinds.js';
import { parseResourcePath, type ResourceKind } from './resource-path.js';

/** What a GET of a notified resource gave: the resource, or `gone` (404: it no longer exists). */
export type Hydrated = { readonly resource: Record<string, unknown> } | 'gone';

/** Completes reference notifications of `hydrate` subscriptions with the resource itself. */
export interface ResourceHydrator {
  /** The resource, `gone`, or undefined when the notification's subscription is not hydrated. */
  hydrate(notification: ChangeNotification): Promise<Hydrated | undefined>;
}

export class HydrationFailedError extends RelayError {
  constructor(message: string) {
    super('ERR_HYDRATION_FAILED', message, { permanentReason: 'hydration_failed' });
  }
}

/**
 * The least time between two reads of the subscription records started for unknown ids: a flood of ids
 * that are not ours reads Table storage at most this often per instance.
 */
const MIN_REREAD_MS = 1000;
/** Subscription ids remembered across reads (a replaced subscription's notifications arrive for a while). */
const KNOWN_IDS = 10_000;

/** The Graph path that GETs a notified resource (its `resource`, in OData key form). */
export function graphPathOf(resource: string, version: 'v1.0' | 'beta'): string | undefined {
  const ids = parseResourcePath(resource);
  if (!ids) return undefined;
  return kindNamed(ids.kind).readPath(ids, version);
}

/**
 * A notification's subscription is in no subscription record, even read again after it arrived: transient
 * (not a dead-letter reason), so the message is retried, and after its last attempt poisoned and then
 * dead-lettered. Routing it without its resource would silently downgrade a `hydrate` subscription's event.
 */
export class UnknownSubscriptionError extends RelayError {
  constructor(message: string) {
    super('ERR_UNKNOWN_SUBSCRIPTION', message);
  }
}

/**
 * GETs the resource of each reference notification whose subscription is a desired entry with
 * `"hydrate": true`. Subscription ids are mapped to entries through the subscription records (their
 * subscription, and the one last replaced); an id not known yet (a subscription just created, by a rotation
 * say) has the records read again, once that read started after the id was met. A notification whose kind no
 * `hydrate` entry covers needs no id. An id still unknown then is hydrated when every desired entry of its
 * kind is a `hydrate` one (with one version), and otherwise throws UnknownSubscriptionError (retried).
 * 429 and 5xx throw (the message is retried); other refusals throw HydrationFailedError (dead-lettered).
 */
export class GraphResourceHydrator implements ResourceHydrator {
  readonly #graphIn: (tenantId: string) => GraphClient;
  readonly #records: Pick<SubscriptionRecords, 'list'>;
  readonly #desired: DesiredSubscriptionSource;
  readonly #serves: (tenantId: string) => Promise<boolean>;
  /** Entry name by subscription id, from every read of the records (oldest first). */
  readonly #nameOf = new Map<string, string>();
  /** The read under way, if any. */
  #reading: Promise<void> | undefined;
  /** The read waiting to start (after the one under way): every id met meanwhile shares it. */
  #queued: Promise<void> | undefined;
  #lastReadAt = Number.NEGATIVE_INFINITY;

  /**
   * `graphIn`: the Graph client acting in a tenant; the notification's tenant is read in with its own. A
   * notification of a tenant the relay does not serve (`serves`) is never hydrated: the app holds no consent
   * there to read its resources, and a 404 there would be announced as a deletion.
   */
  constructor(graphIn: (tenantId: string) => GraphClient, records: Pick<SubscriptionRecords, 'list'>, desired: DesiredSubscriptionSource, serves: (tenantId: string) => Promise<boolean>) {
    this.#graphIn = graphIn;
    this.#records = records;
    this.#desired = desired;
    this.#serves = serves;
  }

  async hydrate(notification: ChangeNotification): Promise<Hydrated | undefined> {
    if (!(await this.#serves(notification.tenantId))) return undefined;
    const kind = parseResourcePath(notification.resource)?.kind;
    const desired = kind && (await this.#entryOf(notification.subscriptionId, notification.tenantId, kind));
    if (!desired) return undefined;
    const path = graphPathOf(notification.resource, desired.version);
    if (!path) return undefined;
    let graph: GraphClient;
    try {
      graph = this.#graphIn(notification.tenantId);
    } catch (e) {
      // GRAPH_AUTH_MODE serves the app's own tenant only (a managed identity): routed as it came, as before.
      if (e instanceof HomeTenantOnlyCredentialError) return undefined;
      throw e;
    }
    try {
      return { resource: await graph.get<Record<string, unknown>>(path) };
    } catch (e) {
      if (isGraphRequestError(e, 404)) return 'gone';
      if (isGraphRequestError(e) && e.status !== 429 && e.status < 500) throw new HydrationFailedError(`GET of the notified resource failed: ${e.message}`);
      throw e;
    }
  }

  /**
   * The `hydrate` entry whose subscription sent a notification of `kind`, undefined when it is another
   * entry's; throws UnknownSubscriptionError when that takes the subscription and it is in no record.
   */
  async #entryOf(subscriptionId: string, tenantId: string, kind: ResourceKind): Promise<DesiredSubscription | undefined> {
    const ofKind = this.#desired.forTenant(tenantId).filter((d) => d.catalog.kind === kind);
    if (!ofKind.some((d) => d.hydrate)) return undefined;
    // Whichever of the app's subscriptions it came from, every entry of its kind wants it hydrated alike.
    if (ofKind.every((d) => d.hydrate && d.version === ofKind[0]?.version)) return ofKind[0];
    if (!this.#nameOf.has(subscriptionId)) await this.#readAfterNow();
    const name = this.#nameOf.get(subscriptionId);
    if (name === undefined) throw new UnknownSubscriptionError(`Subscription ${subscriptionId} is in no subscription record (created a moment ago, or deleted); the message is retried.`);
    const d = this.#desired.byName(name);
    return d?.hydrate ? d : undefined;
  }

  /**
   * Resolves once a read of the records that started after this call has ended: at most one read at a
   * time, at most one waiting (shared by every caller meanwhile), and MIN_REREAD_MS between their starts.
   * A read that started before the call may have missed a record saved since, so it is waited out.
   */
  #readAfterNow(): Promise<void> {
    if (this.#queued) return this.#queued;
    const under = this.#reading;
    const queued = (async () => {
      await under?.catch(() => undefined);
      const wait = this.#lastReadAt + MIN_REREAD_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // From here on a newly met id needs a read after this one.
      this.#queued = undefined;
      this.#lastReadAt = Date.now();
      const reading = this.#read();
      this.#reading = reading;
      try {
        await reading;
      } finally {
        if (this.#reading === reading) this.#reading = undefined;
      }
    })();
    this.#queued = queued;
    return queued;
  }

  async #read(): Promise<void> {
    for (const r of await this.#records.list()) {
      for (const id of [r.subscriptionId, r.gapSubscriptionId]) {
        if (!id) continue;
        this.#nameOf.delete(id); // re-inserted as the newest
        this.#nameOf.set(id, r.name);
      }
    }
    for (const id of this.#nameOf.keys()) {
      if (this.#nameOf.size <= KNOWN_IDS) break;
      this.#nameOf.delete(id);
    }
  }
}

/** The hydrator of the app's subscription side: each tenant read with its own Graph client, only while it is served. */
export function createResourceHydrator(
  subscriptions: Pick<SubscriptionManager, 'graphs' | 'records' | 'desired' | 'tenants'>,
  records: Pick<SubscriptionRecords, 'list'> = subscriptions.records,
): GraphResourceHydrator {
  return new GraphResourceHydrator(
    (t) => subscriptions.graphs.forTenant(t),
    records,
    subscriptions.desired,
    (t) => subscriptions.tenants.serves(t),
  );
}
