import { describe, expect, it } from 'vitest';
import type { BackfillScope } from '../../shared/backfill/backfill-piece.js';
import { afterHistory, chatContainer, childScopesOf, containerOf, firstPage, historyChatsOf, PAGE_SIZE } from '../../shared/backfill/graph-reads.js';
import type { ResourceKind } from '../../shared/kinds/teams-kinds.js';
import { RESOURCE_CATALOG } from '../../shared/subscriptions/resource-catalog.js';

const desiredOf = (kind: ResourceKind, model?: 'A' | 'B') => ({ catalog: RESOURCE_CATALOG.find((e) => e.kind === kind)!, ...(model ? { model } : {}) });
const FROM = '2026-01-01T10:00:00.000Z';
const TO = '2026-01-01T11:00:00.000Z';
const pieceOf = (scope: BackfillScope) => ({ scope, from: FROM, to: TO });
const window = { from: Date.parse(FROM), to: Date.parse(TO) };
/** A URL's query, decoded. */
const query = (url: string) => Object.fromEntries(new URL(url, 'https://graph.test').searchParams);

describe('the Graph reads of a backfill piece', () => {
  it("reads a plan's users, or a channel messages plan's teams", () => {
    expect(firstPage(pieceOf({ kind: 'plan' }), desiredOf('chatMessage'))).toBe('/v1.0/users?$select=id');
    expect(firstPage(pieceOf({ kind: 'plan' }), desiredOf('chatMember'))).toBe('/v1.0/users?$select=id');
    expect(firstPage(pieceOf({ kind: 'plan' }), desiredOf('channelMessage'))).toBe('/v1.0/teams?$select=id');
  });

  it("narrows a chat's messages to the window, newest first, a page at a time", () => {
    const url = firstPage(pieceOf({ kind: 'chatMessages', chatId: '19:a/b@thread.v2' }), desiredOf('chatMessage'));
    expect(url.startsWith(`/v1.0/chats/${encodeURIComponent('19:a/b@thread.v2')}/messages?`)).toBe(true);
    expect(query(url)).toEqual({ $top: String(PAGE_SIZE), $orderby: 'lastModifiedDateTime desc', $filter: `lastModifiedDateTime gt ${FROM} and lastModifiedDateTime lt ${TO}` });
  });

  it("passes the subscription's payment model to the export APIs only", () => {
    expect(query(firstPage(pieceOf({ kind: 'userChatMessages', userId: 'u1' }), desiredOf('chatMessage', 'B'))).model).toBe('B');
    expect(query(firstPage(pieceOf({ kind: 'teamChannelMessages', teamId: 't1' }), desiredOf('channelMessage', 'A'))).model).toBe('A');
    expect(query(firstPage(pieceOf({ kind: 'userChatMessages', userId: 'u1' }), desiredOf('chatMessage'))).model).toBeUndefined();
    expect(query(firstPage(pieceOf({ kind: 'chatMessages', chatId: 'c1' }), desiredOf('chatMessage', 'B'))).model).toBeUndefined();
  });

  it("reads a channel's messages from their delta since the window's start, and a user's membership history as system event messages", () => {
    const delta = firstPage(pieceOf({ kind: 'channelMessages', teamId: 't1', channelId: '19:ch' }), desiredOf('channelMessage'));
    expect(delta.split('?')[0]).toBe(`/v1.0/teams/t1/channels/${encodeURIComponent('19:ch')}/messages/delta`);
    expect(query(delta)).toEqual({ $filter: `lastModifiedDateTime gt ${FROM}` });
    const history = firstPage(pieceOf({ kind: 'userMembershipHistory', userId: 'u1' }), desiredOf('chatMember'));
    expect(history.split('?')[0]).toBe('/v1.0/users/u1/chats/getAllMessages');
    expect(query(history).$filter).toBe(`lastModifiedDateTime gt ${FROM} and lastModifiedDateTime lt ${TO} and messageType eq 'systemEventMessage'`);
    expect(firstPage(pieceOf({ kind: 'chatMembers', chatId: 'c1' }), desiredOf('chatMember'))).toBe('/v1.0/chats/c1/members');
  });

  it("turns a plan's listed users or teams into the kind's child scopes, skipping items without id", () => {
    const items = [{ id: 'x1' }, { displayName: 'no id' }, { id: 'x2' }];
    expect(childScopesOf({ kind: 'plan' }, items, window, desiredOf('chatMessage'))).toEqual([
      { kind: 'userChatMessages', userId: 'x1' },
      { kind: 'userChatMessages', userId: 'x2' },
    ]);
    expect(childScopesOf({ kind: 'plan' }, items.slice(0, 1), window, desiredOf('channelMessage'))).toEqual([{ kind: 'teamChannelMessages', teamId: 'x1' }]);
    expect(childScopesOf({ kind: 'plan' }, items.slice(0, 1), window, desiredOf('chat'))).toEqual([{ kind: 'userChats', userId: 'x1' }]);
    expect(childScopesOf({ kind: 'plan' }, items.slice(0, 1), window, desiredOf('chatMember'))).toEqual([{ kind: 'userMembershipHistory', userId: 'x1' }]);
  });

  it("compares the members of a user's chats created or updated in the window, and of no other", () => {
    const inside = '2026-01-01T10:30:00.000Z';
    const before = '2025-12-31T10:00:00.000Z';
    const after = '2026-01-02T10:00:00.000Z';
    const chats = [
      { id: 'created-in', createdDateTime: inside, lastUpdatedDateTime: after },
      { id: 'updated-in', createdDateTime: before, lastUpdatedDateTime: inside },
      { id: 'created-in-never-updated', createdDateTime: inside },
      { id: 'outside', createdDateTime: before, lastUpdatedDateTime: after },
      { id: 'old-never-updated', createdDateTime: before },
    ];
    expect(childScopesOf({ kind: 'userChatsMembership', userId: 'u1' }, chats, window, desiredOf('chatMember'))).toEqual(
      ['created-in', 'updated-in', 'created-in-never-updated'].map((chatId) => ({ kind: 'chatMembers', chatId })),
    );
    expect(childScopesOf({ kind: 'chatMessages', chatId: 'c1' }, chats, window, desiredOf('chatMessage'))).toBeUndefined();
  });

  it('paces the pieces of one chat together (and its GETs), a channel on its own, and a user-wide listing not at all', () => {
    for (const scope of [
      { kind: 'chatMessages', chatId: 'c1' },
      { kind: 'chatMembers', chatId: 'c1' },
      { kind: 'chatMembershipHistory', chatId: 'c1' },
    ] as const)
      expect(containerOf(scope)).toBe(chatContainer('c1'));
    expect(containerOf({ kind: 'channelMessages', teamId: 't1', channelId: 'ch' })).toBe('channel:t1/ch');
    expect(containerOf({ kind: 'channelMessages', teamId: 't1', channelId: 'ch' })).not.toBe(containerOf({ kind: 'channelMessages', teamId: 't1', channelId: 'ch2' }));
    for (const scope of [{ kind: 'userChatMessages', userId: 'u1' }, { kind: 'teamChannelMessages', teamId: 't1' }, { kind: 'plan' }] as const) expect(containerOf(scope)).toBeUndefined();
  });

  it("follows a membership history with the comparison of members it leads to, and takes a history page's chats", () => {
    expect(afterHistory({ kind: 'chatMembershipHistory', chatId: 'c1' })).toEqual({ kind: 'chatMembers', chatId: 'c1' });
    expect(afterHistory({ kind: 'userMembershipHistory', userId: 'u1' })).toEqual({ kind: 'userChatsMembership', userId: 'u1' });
    expect(afterHistory({ kind: 'chatMembers', chatId: 'c1' })).toBeUndefined();
    const items = [{ chatId: 'c1' }, { id: 'no chat' }, { chatId: 'c2' }];
    expect(historyChatsOf({ kind: 'userMembershipHistory', userId: 'u1' }, items)).toEqual(['c1', 'c2']);
    expect(historyChatsOf({ kind: 'chatMessages', chatId: 'c1' }, items)).toEqual([]);
  });
});
