import { LIST_TEAMS } from './backfill-scopes.js';
import { catalogEntry, ID } from './catalog-entry.js';
import { pathSegment, type TeamsKind } from './teams-kind.js';

const enc = encodeURIComponent;

/** A channel's message or reply (`teams('…')/channels('…')/messages('…')`, `…/replies('…')`): sent, edited, deleted. */
export const channelMessage: TeamsKind = {
  defaultQueue: 'teams-channel-messages',
  noun: "chat's or channel's messages",
  membership: false,
  readPath: (ids, v) => {
    const channel = `/${v}/teams/${enc(ids.teamId!)}/channels/${enc(ids.channelId!)}/messages`;
    return ids.parentMessageId ? `${channel}/${enc(ids.parentMessageId)}/replies/${enc(ids.messageId!)}` : `${channel}/${enc(ids.messageId!)}`;
  },
  parse: (s) => {
    const [first, second, third, fourth] = s;
    if (first?.[0] !== 'teams' || !first[1] || second?.[0] !== 'channels' || !second[1] || third?.[0] !== 'messages' || !third[1]) return undefined;
    const base = { kind: 'channelMessage' as const, teamId: first[1], channelId: second[1] };
    if (!fourth) return { ...base, messageId: third[1] };
    if (fourth[0] === 'replies' && fourth[1] && s.length === 4) return { ...base, messageId: fourth[1], parentMessageId: third[1] };
    return undefined;
  },
  catalog: [
    catalogEntry({
      pattern: /^\/teams\/getAllMessages$/,
      changeTypes: ['created', 'updated', 'deleted'],
      models: ['A', 'B'],
      queryOptions: ['$search'],
      permissions: ['ChannelMessage.Read.All'],
      protectedApi: true,
    }),
    catalogEntry({
      pattern: new RegExp(`^/teams/${ID}/channels/${ID}/messages$`),
      changeTypes: ['created', 'updated', 'deleted'],
      queryOptions: ['$search', '$filter'],
      permissions: ['ChannelMessage.Read.Group', 'ChannelMessage.Read.All'],
      protectedApi: true,
    }),
  ],
  backfill: {
    scopesOf: (path) => {
      if (/^\/teams\/[^/]+\/channels\/[^/]+\/messages$/.test(path)) return { scopes: [{ kind: 'channelMessages', teamId: pathSegment(path, 2), channelId: pathSegment(path, 4) }] };
      if (path === '/teams/getAllMessages') return { scopes: [{ kind: 'plan' }] };
      return { unsupported: `no read API lists the messages of ${path}` };
    },
    plan: { listing: '/v1.0/teams?$select=id', read: LIST_TEAMS, childScope: (teamId) => ({ kind: 'teamChannelMessages', teamId }) },
  },
};
