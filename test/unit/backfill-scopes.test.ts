import { describe, expect, it } from 'vitest';
import { parseBackfillPiece, scopesOf } from '../../shared/backfill/backfill-piece.js';
import { BACKFILL_SCOPE } from '../../shared/kinds/backfill-scopes.js';
import { KIND_NAMES, TEAMS_KINDS } from '../../shared/kinds/teams-kinds.js';
import type { DesiredSubscription } from '../../shared/subscriptions/desired-subscriptions.js';
import { RESOURCE_CATALOG } from '../../shared/subscriptions/resource-catalog.js';

const desired = (resource: string) => {
  const path = resource.split('?')[0]!;
  const catalog = RESOURCE_CATALOG.find((e) => e.pattern.test(path));
  if (!catalog) throw new Error(`${path} is in no catalog entry`);
  return { name: 'd', resource, catalog, changeTypes: ['created'] } as unknown as DesiredSubscription;
};

describe("each kind's backfill scopes", () => {
  it('covers a subscription with the scopes its kind reads it back with', () => {
    expect(scopesOf(desired('/chats/19:a@thread.v2/messages'))).toEqual({ scopes: [{ kind: 'chatMessages', chatId: '19:a@thread.v2' }] });
    expect(scopesOf(desired('/users/u1/chats/getAllMessages'))).toEqual({ scopes: [{ kind: 'userChatMessages', userId: 'u1' }] });
    expect(scopesOf(desired('/teams/t1/channels/19%3Ach/messages'))).toEqual({ scopes: [{ kind: 'channelMessages', teamId: 't1', channelId: '19:ch' }] });
    expect(scopesOf(desired('/chats/c1'))).toEqual({ scopes: [{ kind: 'chat', chatId: 'c1' }] });
    expect(scopesOf(desired('/users/u1/chats'))).toEqual({ scopes: [{ kind: 'userChats', userId: 'u1' }] });
    expect(scopesOf(desired('/chats/c1/members'))).toEqual({ scopes: [{ kind: 'chatMembershipHistory', chatId: 'c1' }] });
    for (const tenantWide of ['/chats', '/chats/getAllMessages', '/chats/getAllMembers', '/teams/getAllMessages'])
      expect(scopesOf(desired(tenantWide)), tenantWide).toEqual({ scopes: [{ kind: 'plan' }] });
  });

  it('says why a subscription cannot be read back: a narrowed listing, or a resource no read API lists', () => {
    expect(scopesOf(desired('/chats/c1/messages?$filter=x'))).toEqual({ unsupported: "the read APIs cannot apply the subscription's $filter" });
    expect(scopesOf(desired('/chats/getAllMessages?$search=x'))).toEqual({ unsupported: "the read APIs cannot apply the subscription's $search" });
    expect(scopesOf(desired('/appCatalogs/teamsApps/a1/installedToChats/getAllMessages'))).toEqual({
      unsupported: 'no read API lists the messages of /appCatalogs/teamsApps/a1/installedToChats/getAllMessages',
    });
    expect(scopesOf(desired('/appCatalogs/teamsApps/a1/installedToChats/getAllMembers'))).toEqual({ unsupported: 'no read API lists the chats of /appCatalogs/teamsApps/a1/installedToChats' });
    expect(scopesOf(desired('/me/chats'))).toEqual({ unsupported: 'no read API lists the chats of /me/chats' });
  });

  it('gives every kind whose backfill can plan a tenant-wide listing and a child scope the piece schema accepts', () => {
    for (const name of KIND_NAMES) {
      const plan = TEAMS_KINDS[name].backfill?.plan;
      expect(plan, name).toBeDefined();
      expect(plan!.listing, name).toMatch(/^\/v1\.0\/(users|teams)\?\$select=id$/);
      expect(BACKFILL_SCOPE.safeParse(plan!.childScope('x1')).success, name).toBe(true);
    }
  });

  it('keeps the piece schema strict: an unknown scope or an extra field is not a piece', () => {
    const piece = { schema: 'teams-change-relay.backfill-piece.v1', gapId: 'g', name: 'n', from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T01:00:00.000Z' };
    expect(parseBackfillPiece({ ...piece, scope: { kind: 'chatMembers', chatId: 'c1' } })).toBeDefined();
    expect(parseBackfillPiece({ ...piece, scope: { kind: 'channelMembers', chatId: 'c1' } })).toBeUndefined();
    expect(parseBackfillPiece({ ...piece, scope: { kind: 'chatMembers', chatId: 'c1', extra: 1 } })).toBeUndefined();
    expect(parseBackfillPiece({ ...piece, scope: { kind: 'chatMembers', chatId: '' } })).toBeUndefined();
  });
});
