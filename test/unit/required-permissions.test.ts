import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rolesOfToken } from '../../shared/graph/token-roles.js';
import { parseDesiredSubscriptions, type DesiredSubscription } from '../../shared/subscriptions/desired-subscriptions.js';
import { checkPermissions, requiredPermissions, type PermissionNeed } from '../../shared/subscriptions/required-permissions.js';

const EXAMPLE = parseDesiredSubscriptions(JSON.parse(readFileSync(new URL('../../subscriptions.example.json', import.meta.url), 'utf8')));
const entries = (...subscriptions: { name: string; resource: string; changeTypes: string[]; version?: string }[]): DesiredSubscription[] => parseDesiredSubscriptions({ subscriptions });
const need = (needs: readonly PermissionNeed[], what: string) => needs.find((n) => n.for === what);

describe('the permissions the desired subscriptions need', () => {
  it("gives each subscription its catalog entry's permissions, least privileged first", () => {
    const needs = requiredPermissions(EXAMPLE, { backfill: false });
    expect(needs).toHaveLength(EXAMPLE.length);
    expect(need(needs, 'subscription all-chats: /chats')).toEqual({
      for: 'subscription all-chats: /chats',
      anyOf: ['Chat.ReadBasic.All', 'Chat.Read.All', 'Chat.ReadWrite.All'],
      entries: ['all-chats'],
    });
    expect(need(needs, 'subscription all-channel-messages: /teams/getAllMessages')).toMatchObject({ anyOf: ['ChannelMessage.Read.All'], also: expect.stringMatching(/protected APIs/) });
    // The query (a $filter, a $search) is not part of what needs it.
    expect(needs.map((n) => n.for)).toContain('subscription channel-mentions: /teams/fbe2bf47-16c8-47cf-b4a5-4b9b187c508b/channels/19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2/messages');
  });

  it('says installedToChats entries need a WhereInstalled application permission besides resource-specific consent', () => {
    const needs = requiredPermissions(EXAMPLE, { backfill: false });
    const installed = needs.filter((n) => n.for.includes('installedToChats'));
    expect(installed.map((n) => n.anyOf[0])).toEqual(['Chat.ReadBasic.WhereInstalled', 'ChatMember.Read.WhereInstalled', 'Chat.Read.WhereInstalled']);
    for (const n of installed) expect(n.also).toMatch(/application permission \(admin consent\), besides resource-specific consent/);
  });

  it("adds the backfill's reads: the tenant-wide listings of users and teams, and what each listed id leads to", () => {
    const needs = requiredPermissions(EXAMPLE, { backfill: true });
    expect(need(needs, 'backfill: list users')).toEqual({
      for: 'backfill: list users',
      anyOf: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      entries: ['all-chats', 'all-chat-members', 'all-chat-messages'],
    });
    expect(need(needs, 'backfill: list teams')).toEqual({
      for: 'backfill: list teams',
      anyOf: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All'],
      entries: ['all-channel-messages'],
    });
    expect(need(needs, "backfill: a team's channel messages (getAllMessages)")?.anyOf).toEqual(['ChannelMessage.Read.All']);
    expect(need(needs, "backfill: a user's chats")?.entries).toEqual(['all-chats', 'user-chats', 'all-chat-members']);
    expect(need(needs, "backfill: a user's chat messages (getAllMessages)")).toMatchObject({
      anyOf: ['Chat.Read.All', 'Chat.ReadWrite.All'],
      entries: ['all-chat-members', 'all-chat-messages', 'user-chat-messages'],
    });
    expect(need(needs, "backfill: a chat's members")).toMatchObject({
      anyOf: expect.arrayContaining(['ChatMember.Read.Chat', 'ChatMember.Read.All']),
      entries: ['all-chat-members', 'one-chat-members'],
    });
    // Members' histories are a chat's messages; first members need the chat itself (its creation time).
    expect(need(needs, "backfill: a chat's messages")?.entries).toEqual(['all-chat-members', 'one-chat-members']);
    expect(need(needs, 'backfill: a chat')?.entries).toEqual(['one-chat', 'all-chat-members', 'one-chat-members']);
    // The installedToChats entries and the narrowed ones (chat-search) are never read back: no backfill need names them.
    const backfillEntries = needs.filter((n) => n.for.startsWith('backfill:')).flatMap((n) => n.entries);
    for (const name of ['app-chats', 'app-chat-members', 'app-chat-messages', 'chat-search', 'channel-mentions']) expect(backfillEntries).not.toContain(name);
  });

  it("reads a chat's first members only for a membership subscription that tells additions", () => {
    const removalsOnly = requiredPermissions(entries({ name: 'left', resource: '/chats/19:a@thread.v2/members', changeTypes: ['deleted'] }), { backfill: true });
    expect(removalsOnly.map((n) => n.for)).toEqual(['subscription left: /chats/19:a@thread.v2/members', "backfill: a chat's messages", "backfill: a chat's members"]);
    const additions = requiredPermissions(entries({ name: 'joined', resource: '/chats/19:a@thread.v2/members', changeTypes: ['created'] }), { backfill: true });
    expect(additions.map((n) => n.for)).toContain('backfill: a chat');
  });

  it('needs nothing without desired subscriptions', () => {
    expect(requiredPermissions([], { backfill: true })).toEqual([]);
  });
});

describe("a token's roles against the needs", () => {
  const allMembers = requiredPermissions(entries({ name: 'members', resource: '/chats/getAllMembers', changeTypes: ['created', 'deleted'] }), { backfill: true });

  it('names, for the example file, the fewest application permissions that leave nothing missing', () => {
    const needs = requiredPermissions(EXAMPLE, { backfill: true });
    const none = checkPermissions(needs, []);
    expect(none.toGrant).toEqual(['ChannelMessage.Read.All', 'Chat.Read.All', 'Chat.Read.WhereInstalled', 'Team.ReadBasic.All', 'User.Read.All']);
    const granted = checkPermissions(needs, none.toGrant);
    expect(granted.needs.filter((n) => n.status !== 'ok')).toEqual([]);
    expect(granted.toGrant).toEqual([]);
    expect(need(granted.needs, 'subscription all-chats: /chats')).toMatchObject({ status: 'ok', grantedBy: 'Chat.Read.All' });
  });

  it('names each missing need with its least privileged application permission, and the fewest that cover them all', () => {
    const check = checkPermissions(allMembers, ['ChannelMessage.Read.All']);
    expect(need(check.needs, 'subscription members: /chats/getAllMembers')).toMatchObject({ status: 'missing', grant: 'ChatMember.Read.All' });
    expect(need(check.needs, 'backfill: list users')).toMatchObject({ status: 'missing', grant: 'User.Read.All' });
    expect(need(check.needs, "backfill: a user's chat messages (getAllMessages)")).toMatchObject({ status: 'missing', grant: 'Chat.Read.All' });
    // Chat.Read.All, needed for the export API anyway, also lets the app subscribe to members and list a user's chats.
    expect(check.toGrant).toEqual(['Chat.Read.All', 'User.Read.All']);
  });

  it('cannot tell resource-specific consent from a token: such a need is unverified, with the application permission that would do', () => {
    const oneChat = requiredPermissions(entries({ name: 'one', resource: '/chats/19:a@thread.v2/members', changeTypes: ['deleted'] }), { backfill: false });
    const check = checkPermissions(oneChat, []);
    expect(check.needs).toEqual([expect.objectContaining({ status: 'unverified', grant: 'ChatMember.Read.All' })]);
    expect(check.toGrant).toEqual([]);
  });

  it('reads roles whatever their case, and a token with no roles claim as none granted', () => {
    const anyCase = checkPermissions(allMembers, ['chat.read.all', 'USER.READ.ALL']);
    expect(anyCase.needs.length).toBeGreaterThan(0);
    expect(anyCase.needs.filter((n) => n.status !== 'ok')).toEqual([]);
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(rolesOfToken(`${part({ alg: 'RS256' })}.${part({ aud: 'https://graph.microsoft.com', roles: ['User.Read.All', 7] })}.sig`)).toEqual(['User.Read.All']);
    expect(rolesOfToken(`${part({ alg: 'RS256' })}.${part({ aud: 'https://graph.microsoft.com' })}.sig`)).toEqual([]);
    expect(() => rolesOfToken('opaque-token')).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_ROLES_UNREADABLE' }));
    // A person's token (az login, GRAPH_AUTH_MODE=default on a laptop) has scopes and no roles: not the app's.
    expect(() => rolesOfToken(`${part({ alg: 'RS256' })}.${part({ aud: 'https://graph.microsoft.com', scp: 'User.Read' })}.sig`)).toThrow(/a person's token/);
  });
});
