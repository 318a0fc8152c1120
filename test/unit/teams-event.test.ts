import { describe, expect, it } from 'vitest';
import { parseResourcePath } from '../../shared/route/resource-path.js';
import { buildTeamsEvent, eventIdFor, UnsupportedResourceError } from '../../shared/route/teams-event.js';
import { changeNotificationSchema } from '../../shared/protocol/notification.js';

const CHAT = '19:2da4c29f6d7041eca70b638b43d45437@thread.v2';
const TEAM = 'fbe2bf47-16c8-47cf-b4a5-4b9b187c508b';
const CHANNEL = '19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2';
const TENANT = '11111111-1111-4111-8111-111111111111';
const RECEIVED = '2026-11-22T10:00:00.000Z';

const notification = (resource: string, changeType = 'created', extra: Record<string, unknown> = {}) =>
  changeNotificationSchema.parse({ subscriptionId: 'sub-1', tenantId: TENANT, changeType, resource, resourceData: { id: 'x', '@odata.type': '#t', '@odata.id': resource }, ...extra });

describe('parseResourcePath', () => {
  it.each([
    [`chats('${CHAT}')`, { kind: 'chat', chatId: CHAT }],
    [`chats('${CHAT}')/members('MCMjMSMj')`, { kind: 'chatMember', chatId: CHAT, memberId: 'MCMjMSMj' }],
    [`chats('${CHAT}')/messages('1612289765949')`, { kind: 'chatMessage', chatId: CHAT, messageId: '1612289765949' }],
    [`Chats('${CHAT}')/Messages('1')`, { kind: 'chatMessage', chatId: CHAT, messageId: '1' }],
    [`teams('${TEAM}')/channels('${CHANNEL}')/messages('2')`, { kind: 'channelMessage', teamId: TEAM, channelId: CHANNEL, messageId: '2' }],
    [`teams('${TEAM}')/channels('${CHANNEL}')/messages('2')/replies('3')`, { kind: 'channelMessage', teamId: TEAM, channelId: CHANNEL, messageId: '3', parentMessageId: '2' }],
    [`/chats/${encodeURIComponent(CHAT)}/messages/4`, { kind: 'chatMessage', chatId: CHAT, messageId: '4' }],
  ])('reads %s', (resource, expected) => {
    expect(parseResourcePath(resource)).toEqual(expected);
  });

  it('refuses resources that are not Teams chats, members or messages', () => {
    for (const r of ["users('u')/messages('m')", `teams('${TEAM}')`, `chats('${CHAT}')/tabs('t')`, '']) expect(parseResourcePath(r)).toBeUndefined();
  });
});

describe('buildTeamsEvent', () => {
  const message = { id: '1612289765949', etag: '1612289765949', lastModifiedDateTime: '2026-11-22T09:59:00Z', body: { content: 'hi' } };

  it.each([
    ['chat', `chats('${CHAT}')`, ['created', 'updated'], { id: CHAT, lastUpdatedDateTime: '2026-11-22T09:00:00Z' }],
    ['chatMember', `chats('${CHAT}')/members('MCMj')`, ['created', 'deleted'], { id: 'MCMj', userId: 'u1', roles: ['owner'] }],
    ['chatMessage', `chats('${CHAT}')/messages('1612289765949')`, ['created', 'updated', 'deleted'], message],
    ['channelMessage', `teams('${TEAM}')/channels('${CHANNEL}')/messages('1612289765949')`, ['created', 'updated', 'deleted'], message],
  ] as const)('builds a CloudEvent for %s, every changeType, with and without resource data', (kind, resource, changeTypes, payload) => {
    for (const changeType of changeTypes) {
      const withData = buildTeamsEvent(notification(resource, changeType.toUpperCase().slice(0, 1) + changeType.slice(1)), { ...payload }, RECEIVED);
      expect(withData.event).toMatchObject({
        specversion: '1.0',
        type: `com.microsoft.graph.teams.${kind}.${changeType}`,
        source: `/tenants/${TENANT}`,
        subject: resource,
        datacontenttype: 'application/json',
        data: payload,
        tenantid: TENANT,
        subscriptionid: 'sub-1',
        changetype: changeType,
        kind,
        datamode: 'resource',
      });
      expect(withData.identity.fingerprint).toMatch(/^[0-9a-f]{40}$/);
      // Messages carry a version that moves with every change; chats and members do not.
      expect(withData.identity.versioned).toBe(kind === 'chatMessage' || kind === 'channelMessage');
      expect(withData.identity.dedupKey).toBeDefined();
      const reference = buildTeamsEvent(notification(resource, changeType), undefined, RECEIVED);
      expect(reference.event).toMatchObject({ datamode: 'reference', time: RECEIVED, data: { resource, id: 'x', '@odata.id': resource } });
      expect(reference.identity.versioned).toBe(false);
      expect(reference.identity.dedupKey).toBeUndefined();
    }
  });

  it('carries the ids of the resource path as extension attributes', () => {
    const { event } = buildTeamsEvent(notification(`teams('${TEAM}')/channels('${CHANNEL}')/messages('2')/replies('3')`), { id: '3', etag: '3' }, RECEIVED);
    expect(event).toMatchObject({ teamid: TEAM, channelid: CHANNEL, messageid: '3', parentmessageid: '2' });
    const member = buildTeamsEvent(notification(`chats('${CHAT}')/members('M1')`, 'deleted'), { id: 'M1' }, RECEIVED).event;
    expect(member).toMatchObject({ chatid: CHAT, memberid: 'M1' });
  });

  const idOf = (built: ReturnType<typeof buildTeamsEvent>, occurrence = 'o1') => eventIdFor(built.identity, occurrence);

  it('derives a stable id of a versioned change from resource, changeType and version, not from Graph\'s notification id', () => {
    const r = `chats('${CHAT}')/messages('1')`;
    const a = buildTeamsEvent(notification(r, 'updated', { id: 'graph-1' }), { id: '1', etag: 'e1' }, RECEIVED);
    const b = buildTeamsEvent(notification(r, 'Updated', { id: 'graph-2', subscriptionId: 'sub-2' }), { id: '1', etag: 'e1' }, '2026-11-23T00:00:00Z');
    expect(idOf(a)).toBe(idOf(b, 'another delivery'));
    expect(idOf(a)).toBe(a.identity.fingerprint);
    expect(a.event.graphnotificationid).toBe('graph-1');
    expect(idOf(buildTeamsEvent(notification(r, 'updated'), { id: '1', etag: 'e2' }, RECEIVED))).not.toBe(idOf(a));
    expect(idOf(buildTeamsEvent(notification(r, 'deleted'), { id: '1', etag: 'e1' }, RECEIVED))).not.toBe(idOf(a));
  });

  it('gives a change without version one fingerprint per content and one id per occurrence', () => {
    const r = `chats('${CHAT}')/members('M1')`;
    const first = buildTeamsEvent(notification(r, 'created'), { id: 'M1', roles: ['owner'] }, RECEIVED);
    const again = buildTeamsEvent(notification(r, 'created'), { roles: ['owner'], id: 'M1' }, RECEIVED);
    expect(again.identity).toEqual(first.identity);
    expect(first.identity.dedupKey).toBe(`subject:${r.toLowerCase()}`);
    expect(buildTeamsEvent(notification(r, 'created'), { id: 'M1', roles: ['guest'] }, RECEIVED).identity.fingerprint).not.toBe(first.identity.fingerprint);
    // The same member added twice (removed in between) is two changes: two ids.
    expect(idOf(first, 'occurrence-1')).not.toBe(idOf(again, 'occurrence-2'));
    expect(idOf(first, 'occurrence-1')).toBe(idOf(again, 'occurrence-1'));
  });

  it('passes user-specific payloads (viewpoint) through intact, one event per user view', () => {
    const chat = { id: CHAT, lastUpdatedDateTime: '2026-11-22T09:00:00Z', viewpoint: { isHidden: true, lastMessageReadDateTime: '2026-11-22T08:00:00Z' } };
    const a = buildTeamsEvent(notification(`chats('${CHAT}')`, 'updated', { subscriptionId: 'alice-sub' }), chat, RECEIVED);
    const b = buildTeamsEvent(notification(`chats('${CHAT}')`, 'updated', { subscriptionId: 'bob-sub' }), chat, RECEIVED);
    expect(a.event.data).toEqual(chat);
    expect(a.identity.fingerprint).not.toBe(b.identity.fingerprint);
    expect(a.identity.dedupKey).not.toBe(b.identity.dedupKey);
    expect(idOf(a)).not.toBe(idOf(b));
  });

  it('refuses unsupported resources', () => {
    expect(() => buildTeamsEvent(notification("users('u')/events('e')"), undefined, RECEIVED)).toThrow(/not a Teams/);
    // An invalid percent-escape is an unsupported resource (dead-lettered), not a URIError retried to poison.
    expect(() => buildTeamsEvent(notification('chats/19%E0%A4%A/messages/1'), undefined, RECEIVED)).toThrow(UnsupportedResourceError);
  });
});
