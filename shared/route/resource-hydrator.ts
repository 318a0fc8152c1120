import { RelayError } from '../errors.js';
import { isGraphRequestError, type GraphClient } from '../graph/graph-client.js';
import type { ChangeNotification } from '../protocol/notification.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { parseResourcePath } from './resource-path.js';

/** What a GET of a notified resource gave: the resource, or `gone` (404: it no longer exists). */
export type Hydrated = { readonly resource: Record<string, unknown> } | 'gone';

/** Completes reference notifications of `hydrate` subscriptions with the resource itself. */
export interface ResourceHydrator {
  /** The resource, `gone`, or undefined when the notification's subscription is not hydrated. */
  hydrate(notification: ChangeNotification): Promise<Hydrated | undefined>;
}

export class HydrationFailedError extends RelayError {
  constructor(message: string) {
    super('ERR_HYDRATION_FAILED', message);
  }
}

/** How long the map from subscription id to desired entry is trusted before it is read again on a miss. */
const REFRESH_MS = 60_000;
const enc = encodeURIComponent;

/** The Graph path that GETs a notified resource (its `resource`, in OData key form). */
export function graphPathOf(resource: string, version: 'v1.0' | 'beta'): string | undefined {
  const ids = parseResourcePath(resource);
  if (!ids) return undefined;
  const base = `/${version}`;
  switch (ids.kind) {
    case 'chat':
      return `${base}/chats/${enc(ids.chatId!)}`;
    case 'chatMember':
      return `${base}/chats/${enc(ids.chatId!)}/members/${enc(ids.memberId!)}`;
    case 'chatMessage':
      return `${base}/chats/${enc(ids.chatId!)}/messages/${enc(ids.messageId!)}`;
    case 'channelMessage': {
      const channel = `${base}/teams/${enc(ids.teamId!)}/channels/${enc(ids.channelId!)}/messages`;
      return ids.parentMessageId ? `${channel}/${enc(ids.parentMessageId)}/replies/${enc(ids.messageId!)}` : `${channel}/${enc(ids.messageId!)}`;
    }
  }
}

/**
 * GETs the resource of each reference notification whose subscription is a desired entry with
 * `"hydrate": true`. Subscription ids are mapped to entries through the subscription records (read again
 * at most once a minute when an id is unknown). 429 and 5xx throw (the message is retried); other
 * refusals throw HydrationFailedError (the message is dead-lettered).
 */
export class GraphResourceHydrator implements ResourceHydrator {
  readonly #graph: GraphClient;
  readonly #records: Pick<SubscriptionRecords, 'list'>;
  readonly #hydrated: ReadonlyMap<string, DesiredSubscription>;
  #byId = new Map<string, DesiredSubscription>();
  #readAt = 0;

  constructor(graph: GraphClient, records: Pick<SubscriptionRecords, 'list'>, desired: readonly DesiredSubscription[]) {
    this.#graph = graph;
    this.#records = records;
    this.#hydrated = new Map(desired.filter((d) => d.hydrate).map((d) => [d.name, d]));
  }

  async hydrate(notification: ChangeNotification): Promise<Hydrated | undefined> {
    if (this.#hydrated.size === 0) return undefined;
    const desired = await this.#entryOf(notification.subscriptionId);
    if (!desired) return undefined;
    const path = graphPathOf(notification.resource, desired.version);
    if (!path) return undefined;
    try {
      return { resource: await this.#graph.get<Record<string, unknown>>(path) };
    } catch (e) {
      if (isGraphRequestError(e, 404)) return 'gone';
      if (isGraphRequestError(e) && e.status !== 429 && e.status < 500) throw new HydrationFailedError(`GET of the notified resource failed: ${e.message}`);
      throw e;
    }
  }

  async #entryOf(subscriptionId: string): Promise<DesiredSubscription | undefined> {
    if (!this.#byId.has(subscriptionId) && Date.now() - this.#readAt > REFRESH_MS) {
      const byId = new Map<string, DesiredSubscription>();
      for (const r of await this.#records.list()) {
        const d = r.subscriptionId ? this.#hydrated.get(r.name) : undefined;
        if (d && r.subscriptionId) byId.set(r.subscriptionId, d);
      }
      this.#byId = byId;
      this.#readAt = Date.now();
    }
    return this.#byId.get(subscriptionId);
  }
}
