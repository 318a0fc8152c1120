import { describe, expect, it } from 'vitest';
import { parseResourcePath } from '../../shared/route/resource-path.js';
import { buildTeamsEvent, changeTimeOf, UnsupportedResourceError } from '../../shared/route/teams-event.js';
import { changeNotificationSchema } from '../../shared/protocol/notification.js';

const CHAT = '19:2da4c29f6d7041eca70b638b43d45437@thread.v2';
const TEAM = 'fbe2bf47-16c8-47cf-b4a5-4b9b187c508b';
const CHANNEL = '19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2';
const TENANT = '11111111-1111-4111-8111-111111111111';
const DELIVERY = 'queue-message-1';
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
      const withData = buildTeamsEvent(notification(resource, changeType.toUpperCase().slice(0, 1) + changeType.slice(1)), { ...payload }, RECEIVED, DELIVERY);
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
      expect(withData.event.id).toMatch(/^[0-9a-f]{40}$/);
      // Messages carry a version that moves with every change; chats and members do not.
      expect(withData.versioned).toBe(kind === 'chatMessage' || kind === 'channelMessage');
      const reference = buildTeamsEvent(notification(resource, changeType), undefined, RECEIVED, DELIVERY);
      expect(reference.event).toMatchObject({ datamode: 'reference', time: RECEIVED, data: { resource, id: 'x', '@odata.id': resource } });
      expect(reference.versioned).toBe(false);
    }
  });

  it('carries the ids of the resource path as extension attributes', () => {
    const { event } = buildTeamsEvent(notification(`teams('${TEAM}')/channels('${CHANNEL}')/messages('2')/replies('3')`), { id: '3', etag: '3' }, RECEIVED, DELIVERY);
    expect(event).toMatchObject({ teamid: TEAM, channelid: CHANNEL, messageid: '3', parentmessageid: '2' });
    const member = buildTeamsEvent(notification(`chats('${CHAT}')/members('M1')`, 'deleted'), { id: 'M1' }, RECEIVED, DELIVERY).event;
    expect(member).toMatchObject({ chatid: CHAT, memberid: 'M1' });
  });

  it("derives a stable id of a versioned change from resource, changeType and version, not from Graph's notification id", () => {
    const r = `chats('${CHAT}')/messages('1')`;
    const a = buildTeamsEvent(notification(r, 'updated', { id: 'graph-1' }), { id: '1', etag: 'e1' }, RECEIVED, 'delivery-1').event;
    const b = buildTeamsEvent(notification(r, 'Updated', { id: 'graph-2', subscriptionId: 'sub-2' }), { id: '1', etag: 'e1' }, '2026-11-23T00:00:00Z', 'delivery-2').event;
    expect(a.id).toBe(b.id);
    expect(a.graphnotificationid).toBe('graph-1');
    expect(buildTeamsEvent(notification(r, 'updated'), { id: '1', etag: 'e2' }, RECEIVED, DELIVERY).event.id).not.toBe(a.id);
    expect(buildTeamsEvent(notification(r, 'deleted'), { id: '1', etag: 'e1' }, RECEIVED, DELIVERY).event.id).not.toBe(a.id);
  });

  it("gives each tenant's copy of one change an id of its own (a cross-tenant chat), whatever the case of the tenant id", () => {
    const r = `chats('${CHAT}')/messages('1')`;
    const id = (tenantId: string, payload?: Record<string, unknown>) => buildTeamsEvent(notification(r, 'created', { tenantId, id: 'graph-1' }), payload, RECEIVED, DELIVERY).event.id;
    const other = '33333333-3333-4333-8333-333333333333';
    for (const payload of [{ id: '1', etag: 'e1' }, { id: '1' }, undefined]) {
      expect(id(TENANT, payload)).not.toBe(id(other, payload));
      expect(id(TENANT, payload)).toBe(id(TENANT.toUpperCase(), payload));
    }
  });

  it('never gives two deliveries of an unversioned change one id, unless Graph gave them one notification id', () => {
    const r = `chats('${CHAT}')/members('M1')`;
    const member = { id: 'M1', roles: ['owner'] };
    const id = (delivery: string, extra: Record<string, unknown> = {}, payload: Record<string, unknown> = member) =>
      buildTeamsEvent(notification(r, 'created', extra), payload, RECEIVED, delivery).event.id;
    // The same member added twice (removed in between) is two changes that look alike: two ids.
    expect(id('delivery-1')).not.toBe(id('delivery-2'));
    // The same delivery retried (the same queue message) keeps its id, whatever the key order.
    expect(id('delivery-1')).toBe(id('delivery-1', {}, { roles: ['owner'], id: 'M1' }));
    // Graph's notification id, when present, names the notification across deliveries.
    expect(id('delivery-1', { id: 'graph-7' })).toBe(id('delivery-2', { id: 'graph-7' }));
    expect(id('delivery-1', { id: 'graph-7' })).not.toBe(id('delivery-1', { id: 'graph-8' }));
    expect(id('delivery-1', { id: 'graph-7' })).not.toBe(id('delivery-1', { id: 'graph-7' }, { id: 'M1', roles: ['guest'] }));
  });

  it('passes user-specific payloads (viewpoint) through intact, one event per user view', () => {
    const chat = { id: CHAT, lastUpdatedDateTime: '2026-11-22T09:00:00Z', viewpoint: { isHidden: true, lastMessageReadDateTime: '2026-11-22T08:00:00Z' } };
    const a = buildTeamsEvent(notification(`chats('${CHAT}')`, 'updated', { subscriptionId: 'alice-sub', id: 'g1' }), chat, RECEIVED, DELIVERY).event;
    const b = buildTeamsEvent(notification(`chats('${CHAT}')`, 'updated', { subscriptionId: 'bob-sub', id: 'g1' }), chat, RECEIVED, DELIVERY).event;
    expect(a.data).toEqual(chat);
    expect(a.id).not.toBe(b.id);
  });

  it('refuses unsupported resources', () => {
    expect(() => buildTeamsEvent(notification("users('u')/events('e')"), undefined, RECEIVED, DELIVERY)).toThrow(/not a Teams/);
    // An invalid percent-escape is an unsupported resource (dead-lettered), not a URIError retried to poison.
    expect(() => buildTeamsEvent(notification('chats/19%E0%A4%A/messages/1'), undefined, RECEIVED, DELIVERY)).toThrow(UnsupportedResourceError);
  });
});

describe('changeTimeOf: where an end-to-end delay counts from', () => {
  const at = (data: unknown, changetype = 'updated') => changeTimeOf({ time: 'event-time', changetype, data });
  it("takes a resource's lastModifiedDateTime, a created resource's createdDateTime, else the event's time (the receipt)", () => {
    expect(at({ lastModifiedDateTime: 'modified', createdDateTime: 'created' })).toBe('modified');
    expect(at({ createdDateTime: 'created' }, 'created')).toBe('created');
    expect(at({ createdDateTime: 'created' }, 'updated')).toBe('event-time');
    expect(at({ userId: 'u1' }, 'created')).toBe('event-time');
    expect(at(undefined)).toBe('event-time');
  });
  it('gives none for a chat updated: its lastUpdatedDateTime does not always move with a change', () => {
    expect(at({ lastUpdatedDateTime: 'older', createdDateTime: 'created' }, 'updated')).toBeUndefined();
    expect(at({ lastUpdatedDateTime: 'older', createdDateTime: 'created' }, 'created')).toBe('created');
  });
});
