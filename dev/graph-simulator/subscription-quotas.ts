import type { ParsedResource } from './catalog.js';
import { extensionError } from './graph-error.js';

/** What the quota rules need of a subscription. */
export interface QuotaSubject {
  readonly id: string;
  readonly parsed: ParsedResource;
  readonly applicationId: string;
  readonly tenantId: string;
  readonly userId?: string;
}

export interface QuotaLimits {
  /** Most subscriptions one tenant may hold; Teams' resource types share it (10,000). */
  readonly perTenant: number;
  /** Most subscriptions tracking all chats (or all chat messages) of one user (10). */
  readonly perUser: number;
}

/**
 * The one chat or channel a resource is scoped to, with its resource family: `/chats/{id}`,
 * `/chats/{id}/members`, `/chats/{id}/messages`, `/teams/{t}/channels/{c}/messages`. Tenant-wide and per-user
 * resources have none.
 */
export function containerOf(parsed: ParsedResource): string | undefined {
  const { ids, entry } = parsed;
  if (ids.userId || ids.appId) return undefined;
  if (ids.chatId) return `${entry.kind}:chat:${ids.chatId.toLowerCase()}`;
  if (ids.teamId && ids.channelId) return `${entry.kind}:channel:${ids.teamId.toLowerCase()}/${ids.channelId.toLowerCase()}`;
  return undefined;
}

/** `/users/{id}/chats` and `/users/{id}/chats/getAllMessages`: the user whose chats a subscription tracks. */
const trackedUser = (s: Pick<QuotaSubject, 'parsed'>) => s.parsed.ids.userId?.toLowerCase();

/**
 * Teams' subscription quotas (Graph's subscription resource page, "Teams resource limitations"): one
 * subscription per app and chat or channel (per resource family: a chat, its members, its messages), 10
 * per user for the resources tracking all of a user's chats or chat messages, and one quota per tenant.
 * Past a quota Graph answers 403 with a message naming the limit.
 */
export function checkQuotas(candidate: Omit<QuotaSubject, 'id'>, existing: readonly QuotaSubject[], limits: QuotaLimits): void {
  const container = containerOf(candidate.parsed);
  if (container) {
    const taken = existing.find((s) => s.applicationId === candidate.applicationId && s.tenantId === candidate.tenantId && containerOf(s.parsed) === container);
    if (taken) {
      throw extensionError(
        403,
        `The maximum number of subscriptions per application and chat or channel (1) has been reached: subscription '${taken.id}' already exists for this ${candidate.parsed.entry.kind === 'chat' ? 'chat' : candidate.parsed.entry.kind === 'member' ? "chat's members" : "chat's or channel's messages"}. Delete it before creating another.`,
      );
    }
  }
  const user = trackedUser(candidate);
  if (user) {
    const sameUser = existing.filter((s) => s.tenantId === candidate.tenantId && s.parsed.entry.kind === candidate.parsed.entry.kind && trackedUser(s) === user);
    if (sameUser.length >= limits.perUser) throw extensionError(403, `The maximum number of subscriptions per user (${limits.perUser}) for this resource has been reached.`);
  }
  if (existing.filter((s) => s.tenantId === candidate.tenantId).length >= limits.perTenant) {
    throw extensionError(403, `The subscription quota of ${limits.perTenant} for Teams resources in this tenant has been reached.`);
  }
}
