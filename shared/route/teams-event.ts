import { createHash } from 'node:crypto';
import { RelayError } from '../errors.js';
import type { ChangeNotification } from '../protocol/notification.js';
import { canonicalJson } from '../util/canonical-json.js';
import { parseResourcePath, type ResourceKind } from './resource-path.js';

/**
 * The CloudEvents 1.0 event (structured JSON) published downstream for each change notification.
 * docs/events.md is the contract; docs/teams-event.schema.json its JSON Schema.
 */
export interface TeamsCloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data?: unknown;
  readonly dataref?: string;
  readonly tenantid: string;
  readonly subscriptionid: string;
  readonly changetype: string;
  readonly kind: ResourceKind;
  /** `resource` when data is the decrypted resource, `reference` when it only points at it. */
  readonly datamode: 'resource' | 'reference';
  readonly chatid?: string;
  readonly teamid?: string;
  readonly channelid?: string;
  readonly messageid?: string;
  readonly parentmessageid?: string;
  readonly memberid?: string;
  /** Graph's own notification id, when it sent one (not stable across redeliveries). */
  readonly graphnotificationid?: string;
  /** True when the change was read back from Graph to fill a gap in its notifications, not notified. */
  readonly backfilled?: boolean;
}

export const EVENT_TYPE_PREFIX = 'com.microsoft.graph.teams';

export class UnsupportedResourceError extends RelayError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_RESOURCE', message, { permanentReason: 'unsupported_resource' });
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

export interface BuiltEvent {
  readonly event: TeamsCloudEvent;
  /**
   * Whether the id pins a version that moves with every real change (a message's etag or
   * lastModifiedDateTime), so that any copy of the change has the same id.
   */
  readonly versioned: boolean;
}

/**
 * Builds the event for one notification. `resource` is the decrypted resource data, if any;
 * `deliveryId` names the delivery (the incoming queue message, the same on each of its retries).
 *
 * The id never merges two real changes. A message's version (etag, else lastModifiedDateTime) moves with
 * every change, so resource path + changeType + version is the id of every copy of the change. Chats and
 * members carry no such version (a member has none; a chat's lastUpdatedDateTime is not always bumped), and
 * reference-only notifications carry nothing but the path: two real changes can look the same (a member
 * added, removed and added again), and no comparison of content can tell a redelivery from a repeat when
 * notifications arrive out of order. Their id also includes the notification's own Graph id when it has
 * one, else the delivery: a copy is then a duplicate, never a loss. User-specific payloads (viewpoint) are
 * told apart by subscription, so each user's view is its own event, and every id names its tenant: two
 * tenants that both see a change (a cross-tenant chat) each get their own event, which neither the
 * de-duplication log (keyed by the id) nor a consumer de-duplicating on `id` can take for the other's.
 */
export function buildTeamsEvent(notification: ChangeNotification, resource: Record<string, unknown> | undefined, receivedAt: string, deliveryId: string): BuiltEvent {
  const ids = parseResourcePath(notification.resource);
  if (!ids) throw new UnsupportedResourceError(`'${notification.resource}' is not a Teams chat, chat member or message resource.`);
  const changeType = notification.changeType.toLowerCase();
  const subject = notification.resource;

  const version = resource ? (str(resource.etag) ?? str(resource['@odata.etag']) ?? str(resource.lastModifiedDateTime)) : undefined;
  const viewpoint = resource?.viewpoint !== undefined ? `|viewpoint:${notification.subscriptionId}:${sha256(canonicalJson(resource?.viewpoint))}` : '';
  // Without a version, the content names the change (hashed only then: a message's content is most of its cost).
  const content = () => (resource ? `sha256:${sha256(canonicalJson(resource))}` : `reference:${sha256(canonicalJson(notification.resourceData ?? {}))}`);
  const occurrence = version ? '' : `\n${notification.id ? `graph:${notification.id}` : `delivery:${deliveryId}`}`;
  const id = sha256(`tenant:${notification.tenantId.toLowerCase()}\n${subject.toLowerCase()}\n${changeType}\n${version ?? content()}${viewpoint}${occurrence}`).slice(0, 40);

  const time = (resource && (str(resource.lastModifiedDateTime) ?? str(resource.lastUpdatedDateTime) ?? str(resource.createdDateTime))) ?? receivedAt;
  const data = resource ?? { resource: notification.resource, ...(notification.resourceData ?? {}) };
  const kindType = ids.kind;
  const event: TeamsCloudEvent = {
    specversion: '1.0',
    id,
    source: `/tenants/${notification.tenantId}`,
    type: `${EVENT_TYPE_PREFIX}.${kindType}.${changeType}`,
    subject,
    time,
    datacontenttype: 'application/json',
    data,
    tenantid: notification.tenantId,
    subscriptionid: notification.subscriptionId,
    changetype: changeType,
    kind: ids.kind,
    datamode: resource ? 'resource' : 'reference',
    ...(ids.chatId ? { chatid: ids.chatId } : {}),
    ...(ids.teamId ? { teamid: ids.teamId } : {}),
    ...(ids.channelId ? { channelid: ids.channelId } : {}),
    ...(ids.messageId ? { messageid: ids.messageId } : {}),
    ...(ids.parentMessageId ? { parentmessageid: ids.parentMessageId } : {}),
    ...(ids.memberId ? { memberid: ids.memberId } : {}),
    ...(notification.id ? { graphnotificationid: notification.id } : {}),
  };
  return { event, versioned: version !== undefined };
}

/**
 * When the change an event carries was made, as far as Graph says reliably: a resource's
 * `lastModifiedDateTime`, a created one's `createdDateTime`, else (no resource timestamps: a member, a
 * notification without resource data) the event's time, which is then when the relay received it. A chat's
 * `lastUpdatedDateTime` is not always moved by a change, so a chat updated gives none: its end-to-end delay
 * is not measured rather than measured from an older time.
 */
export function changeTimeOf(event: Pick<TeamsCloudEvent, 'time' | 'changetype' | 'data'>): string | undefined {
  const data = event.data && typeof event.data === 'object' ? (event.data as Record<string, unknown>) : {};
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return text(data.lastModifiedDateTime) ?? (event.changetype === 'created' ? text(data.createdDateTime) : undefined) ?? (text(data.lastUpdatedDateTime) ? undefined : event.time);
}
