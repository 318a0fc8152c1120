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

export interface BuiltEvent {
  readonly event: TeamsCloudEvent;
  /**
   * Whether the id pins the resource's version (etag, lastModifiedDateTime or content), so that an equal
   * id means the same change. Reference-only events carry no version: they are never skipped as duplicates.
   */
  readonly versioned: boolean;
}

/**
 * Builds the event for one notification. `resource` is the decrypted resource data, if any. The id is
 * derived from the change itself: resource path, changeType and the resource's version (etag, else
 * lastModifiedDateTime/lastUpdatedDateTime, else a hash of the decrypted content); user-specific payloads
 * (viewpoint) also include their subscription, so each user's view is its own event.
 */
export function buildTeamsEvent(notification: ChangeNotification, resource: Record<string, unknown> | undefined, receivedAt: string): BuiltEvent {
  const ids = parseResourcePath(notification.resource);
  if (!ids) throw new UnsupportedResourceError(`'${notification.resource}' is not a Teams chat, chat member or message resource.`);
  const changeType = notification.changeType.toLowerCase();
  const subject = notification.resource;

  let version: string;
  let versioned = true;
  if (resource) {
    version =
      str(resource.etag) ??
      str(resource['@odata.etag']) ??
      str(resource.lastModifiedDateTime) ??
      str(resource.lastUpdatedDateTime) ??
      `sha256:${sha256(canonicalJson(resource))}`;
    if (resource.viewpoint !== undefined) version += `|viewpoint:${notification.subscriptionId}:${sha256(canonicalJson(resource.viewpoint))}`;
  } else {
    version = `reference:${sha256(canonicalJson(notification.resourceData ?? {}))}`;
    versioned = false;
  }
  const id = sha256(`${subject.toLowerCase()}\n${changeType}\n${version}`).slice(0, 40);

  const time =
    (resource && (str(resource.lastModifiedDateTime) ?? str(resource.lastUpdatedDateTime) ?? str(resource.createdDateTime))) ?? receivedAt;
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
  return { event, versioned };
}
