import { createHash } from 'node:crypto';
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
}

export const EVENT_TYPE_PREFIX = 'com.microsoft.graph.teams';

export class UnsupportedResourceError extends Error {
  readonly code = 'ERR_UNSUPPORTED_RESOURCE';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * How one change is told apart from another. Graph redelivers a change unchanged, so a versioned change
 * (its `etag`, `@odata.etag` or `lastModifiedDateTime` moves with every real change: messages) is known by
 * its fingerprint alone. Chats and members carry no such version: two real changes can look the same (a
 * member added, removed and added again), so they are compared with the last change routed for their
 * subject, and each occurrence gets its own id. Reference-only notifications carry nothing to compare.
 */
export interface ChangeIdentity {
  /** Hash of resource path, changeType and version (or content): equal for every copy of one change. */
  readonly fingerprint: string;
  /** Whether the fingerprint alone separates real changes (then it is the event id). */
  readonly versioned: boolean;
  /** What de-duplication compares on; undefined: never skipped. */
  readonly dedupKey?: string;
}

export interface BuiltEvent {
  /** The event but its id, which eventIdFor gives once the occurrence is known. */
  readonly event: Omit<TeamsCloudEvent, 'id'>;
  readonly identity: ChangeIdentity;
}

/**
 * The event id: the fingerprint of a versioned change; otherwise the fingerprint with the occurrence (the
 * de-duplication log's, or the delivering queue message's when nothing is de-duplicated).
 */
export function eventIdFor(identity: ChangeIdentity, occurrence: string): string {
  return identity.versioned ? identity.fingerprint : sha256(`${identity.fingerprint}\n${occurrence}`).slice(0, 40);
}

/**
 * Builds the event for one notification. `resource` is the decrypted resource data, if any. User-specific
 * payloads (viewpoint) are told apart by subscription, so each user's view is its own event.
 */
export function buildTeamsEvent(notification: ChangeNotification, resource: Record<string, unknown> | undefined, receivedAt: string): BuiltEvent {
  const ids = parseResourcePath(notification.resource);
  if (!ids) throw new UnsupportedResourceError(`'${notification.resource}' is not a Teams chat, chat member or message resource.`);
  const changeType = notification.changeType.toLowerCase();
  const subject = notification.resource;

  let identity: ChangeIdentity;
  if (resource) {
    const viewpoint = resource.viewpoint !== undefined ? `|viewpoint:${notification.subscriptionId}` : '';
    const version = str(resource.etag) ?? str(resource['@odata.etag']) ?? str(resource.lastModifiedDateTime);
    const fingerprint = sha256(`${subject.toLowerCase()}\n${changeType}\n${version ?? `sha256:${sha256(canonicalJson(resource))}`}${viewpoint && `${viewpoint}:${sha256(canonicalJson(resource.viewpoint))}`}`).slice(0, 40);
    identity = version ? { fingerprint, versioned: true, dedupKey: fingerprint } : { fingerprint, versioned: false, dedupKey: `subject:${subject.toLowerCase()}${viewpoint}` };
  } else {
    identity = { fingerprint: sha256(`${subject.toLowerCase()}\n${changeType}\nreference:${sha256(canonicalJson(notification.resourceData ?? {}))}`).slice(0, 40), versioned: false };
  }

  const time =
    (resource && (str(resource.lastModifiedDateTime) ?? str(resource.lastUpdatedDateTime) ?? str(resource.createdDateTime))) ?? receivedAt;
  const data = resource ?? { resource: notification.resource, ...(notification.resourceData ?? {}) };
  const kindType = ids.kind;
  const event: Omit<TeamsCloudEvent, 'id'> = {
    specversion: '1.0',
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
  return { event, identity };
}
