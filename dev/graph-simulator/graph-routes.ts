import type { Route } from '../http/route-table.js';
import { applicationJson, applicationSelect, type SimApplication } from './applications.js';
import { callerOf } from './caller.js';
import { GraphError, notFound } from './graph-error.js';
import type { GraphSimulator } from './graph-simulator.js';
import { parseFilter } from './read-query.js';
import { channelMessagesDelta, DELETED_VISIBLE_MS, listChatMessages, listUserChats, teamChannelsGetAllMessages, userChatsGetAllMessages, type ReadRequestContext } from './read-api.js';
import type { ReadKind } from './read-throttle.js';
import type { Answer, SimulatorRequest } from './route-exchange.js';
import { subscriptionJson, type Caller } from './subscriptions.js';
import type { TeamsDirectory } from './teams-directory.js';
import { chatJson, memberJson, messageJson, type SimMessage } from './teams-model.js';

/** One call to Graph's own paths (under /v1.0 and /beta), with who makes it and what the read API needs. */
export interface GraphCall {
  readonly sim: GraphSimulator;
  readonly req: SimulatorRequest;
  readonly version: 'v1.0' | 'beta';
  readonly caller: Caller;
  /** The caller's tenant's directory: what it lists and reads. */
  readonly teams: TeamsDirectory;
  readonly read: ReadRequestContext;
}

/**
 * The call for `rest` (the decoded segments after the version), in the caller's tenant; 401 first when the token
 * is missing or not a JWT, names a tenant the simulator does not hold, or (unsigned) an app with no consent there.
 */
export async function graphCall(sim: GraphSimulator, req: SimulatorRequest, version: 'v1.0' | 'beta', rest: readonly string[]): Promise<GraphCall> {
  const caller = sim.admit(await callerOf({ appId: sim.appId, tenantId: sim.tenantId, verifier: sim.tokenVerifier }, req.headers.authorization));
  const teams = sim.tenantDirectories.require(caller.tenantId).teams;
  const read: ReadRequestContext = {
    teams,
    tokens: sim.pagingTokens,
    nowMs: sim.clock.now(),
    versionBase: `${sim.baseUrl}/${version}`,
    path: '/' + rest.join('/'),
    query: req.query,
    includeUnknownEnumMembers: /(^|[,;\s])include-unknown-enum-members($|[,;\s])/i.test(String(req.headers.prefer ?? '')),
  };
  return { sim, req, version, caller, teams, read };
}

type GraphRoute = Route<GraphCall, Answer | Promise<Answer>>;

const ok = (body: unknown, status = 200): Answer => ({ status, body });
const list = <T>(value: T[], call: GraphCall, of: string) => ok({ '@odata.context': `${call.read.versionBase}/$metadata#${of}`, value });

/** Counts a read against Graph's read limits (read-throttle.ts); throws its 429 when over. */
const admit = (call: GraphCall, kind: ReadKind, container: string | null) => call.sim.reads.admit({ appId: call.caller.appId, tenantId: call.caller.tenantId, kind, container, path: call.read.path });

/** A single message as GET returns it; a soft-deleted one only within the 21 days Graph keeps it readable. */
function single(call: GraphCall, message: SimMessage | undefined, wanted: string | undefined): Answer {
  const { nowMs, includeUnknownEnumMembers } = call.read;
  if (!message || (message.deletedDateTime && nowMs - Date.parse(message.deletedDateTime) > DELETED_VISIBLE_MS)) throw notFound(`Message '${wanted}' was not found.`);
  return ok(messageJson(message, call.read.teams.users, call.read.teams.tenantId, { includeUnknownEnumMembers }));
}

/** The directory's 404 for an object it does not hold. */
const noSuchObject = (key: string) => new GraphError(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);

/** An application (the caller needs Application.Read.All or above: app-grants.ts), `$select` applied. */
function application(call: GraphCall, find: () => SimApplication | undefined, key: string): Answer {
  call.sim.grants.checkRead(call.caller, 'applications');
  const select = applicationSelect(call.req.query);
  const app = find();
  if (!app) throw noSuchObject(key);
  return ok({ '@odata.context': `${call.read.versionBase}/$metadata#applications${select ? `(${select.join(',')})` : ''}/$entity`, ...applicationJson(app, select) });
}

/** `GET /applications`, with the one `$filter` the self-checks use: `appId eq '…'`. */
function applications(call: GraphCall): Answer {
  call.sim.grants.checkRead(call.caller, 'applications');
  const select = applicationSelect(call.req.query);
  let apps = call.sim.applications.list();
  for (const clause of parseFilter(call.req.query)) {
    if (clause.property !== 'appId' || clause.operator !== 'eq' || typeof clause.value !== 'string') {
      throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${clause.property}' of resource 'Application'.`);
    }
    const wanted = clause.value.toLowerCase();
    apps = apps.filter((a) => a.appId.toLowerCase() === wanted);
  }
  return list(
    apps.map((a) => applicationJson(a, select)),
    call,
    `applications${select ? `(${select.join(',')})` : ''}`,
  );
}

/** Graph's answer for a path it has no resource for. */
const noSuchSegment = (segment: string) => notFound(`Resource not found for the segment '${segment}'.`);

/** A planted fault (the driver's POST /faults) fails the next subscription requests with a 429 or a 503. */
function withSubscriptionFaults(handler: GraphRoute[2]): GraphRoute[2] {
  return (params, call) => {
    const fault = call.sim.faults.take();
    if (fault) {
      const headers = { 'retry-after': String(fault.retryAfterSeconds) };
      throw fault.status === 429
        ? new GraphError(429, 'TooManyRequests', 'Too many requests.', headers)
        : new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable.', headers);
    }
    return handler(params, call);
  };
}

const SUBSCRIPTION_ROUTES: GraphRoute[] = [
  ['POST', 'subscriptions', async (_, c) => ok(subscriptionJson(await c.sim.subscriptions.create(c.caller, c.version, c.req.body), c.sim.baseUrl), 201)],
  [
    'GET',
    'subscriptions',
    (_, c) =>
      list(
        c.sim.subscriptions.list(c.caller).map((s) => subscriptionJson(s, c.sim.baseUrl, 'list')),
        c,
        'subscriptions',
      ),
  ],
  ['GET', 'subscriptions/{id}', ({ id = '' }, c) => ok(subscriptionJson(c.sim.subscriptions.get(c.caller, id), c.sim.baseUrl))],
  ['PATCH', 'subscriptions/{id}', async ({ id = '' }, c) => ok(subscriptionJson(await c.sim.subscriptions.update(c.caller, id, c.req.body), c.sim.baseUrl))],
  [
    'DELETE',
    'subscriptions/{id}',
    ({ id = '' }, c) => {
      c.sim.subscriptions.delete(c.caller, id);
      return { status: 204 };
    },
  ],
  [
    'POST',
    'subscriptions/{id}/reauthorize',
    async ({ id = '' }, c) => {
      await c.sim.subscriptions.reauthorize(c.caller, id);
      return { status: 204 };
    },
  ],
  [
    '*',
    'subscriptions/{*rest}',
    (_, c) => {
      throw new GraphError(405, 'BadRequest', `${c.req.method} is not supported on this path.`);
    },
  ],
];

/**
 * The resources the app reads (`$select` is accepted and ignored, the items being small, except on
 * applications); the tenant-wide listings and the applications check the app's grant.
 */
const RESOURCE_ROUTES: GraphRoute[] = [
  // Tenant-wide listings a backfill walks.
  [
    'GET',
    'users',
    (_, c) => {
      c.sim.grants.checkRead(c.caller, 'users');
      return list(
        [...c.teams.users.values()].map((u) => ({ id: u.id, displayName: u.displayName })),
        c,
        'users',
      );
    },
  ],
  [
    'GET',
    'teams',
    (_, c) => {
      c.sim.grants.checkRead(c.caller, 'teams');
      return list(
        [...c.teams.teams.values()].map((t) => ({ id: t.id, displayName: t.displayName })),
        c,
        'teams',
      );
    },
  ],
  // The directory's application objects: the self-checks read their own credentials' expiry.
  ['GET', 'applications', (_, c) => applications(c)],
  ['GET', 'applications/{id}', ({ id = '' }, c) => application(c, () => c.sim.applications.byObjectId(id), id)],
  [
    'GET',
    'users/{userId}/chats/getAllMessages',
    ({ userId = '' }, c) => {
      knownUser(c, userId);
      admit(c, 'getAllMessages', null);
      return ok(userChatsGetAllMessages(c.read, userId));
    },
  ],
  [
    'GET',
    'users/{userId}/chats',
    ({ userId = '' }, c) => {
      knownUser(c, userId);
      return ok(listUserChats(c.read, userId));
    },
  ],
  ['GET', 'chats/{chatId}', ({ chatId = '' }, c) => ok(chatJson(seenChat(c, chatId).chat, c.caller.userId))],
  [
    'GET',
    'chats/{chatId}/members',
    ({ chatId = '' }, c) => {
      const { chat, teams } = seenChat(c, chatId);
      return list(
        [...chat.members.values()].map((m) => memberJson(m, teams.users.get(m.userId), chat.tenantId)),
        c,
        `chats('${chatId}')/members`,
      );
    },
  ],
  [
    'GET',
    'chats/{chatId}/members/{memberId}',
    ({ chatId = '', memberId = '' }, c) => {
      const { chat, teams } = seenChat(c, chatId);
      const member = chat.members.get(memberId);
      if (!member) throw notFound(`Member '${memberId}' was not found.`);
      return ok(memberJson(member, teams.users.get(member.userId), chat.tenantId));
    },
  ],
  [
    'GET',
    'chats/{chatId}/messages/{messageId?}',
    ({ chatId = '', messageId }, c) => {
      const { chat, teams } = seenChat(c, chatId);
      admit(c, 'messages', chat.id);
      const inChat = { ...c, read: { ...c.read, teams } };
      return messageId === undefined ? ok(listChatMessages(inChat.read, chat)) : single(inChat, chat.messages.get(messageId), messageId);
    },
  ],
  [
    'GET',
    'teams/{teamId}/channels/getAllMessages',
    ({ teamId = '' }, c) => {
      const team = c.teams.teams.get(teamId);
      if (!team) throw notFound(`Team '${teamId}' was not found.`);
      admit(c, 'getAllMessages', null);
      return ok(teamChannelsGetAllMessages(c.read, team));
    },
  ],
  [
    'GET',
    'teams/{teamId}/channels/{channelId}/messages/delta',
    ({ teamId = '', channelId = '' }, c) => {
      const { team, channel } = c.teams.channel(teamId, channelId);
      admit(c, 'messages', `${teamId}/${channelId}`);
      return ok(channelMessagesDelta(c.read, team, channel));
    },
  ],
  [
    'GET',
    'teams/{teamId}/channels/{channelId}/messages/{messageId?}',
    ({ teamId = '', channelId = '', messageId }, c) => {
      const { channel } = c.teams.channel(teamId, channelId);
      admit(c, 'messages', `${teamId}/${channelId}`);
      if (messageId !== undefined) return single(c, channel.messages.get(messageId), messageId);
      const { nowMs, includeUnknownEnumMembers } = c.read;
      const roots = [...channel.messages.values()].filter((m) => !m.replyToId && (!m.deletedDateTime || nowMs - Date.parse(m.deletedDateTime) <= DELETED_VISIBLE_MS));
      return list(
        roots.map((m) => messageJson(m, c.teams.users, c.teams.tenantId, { includeUnknownEnumMembers })),
        c,
        'messages',
      );
    },
  ],
  [
    'GET',
    'teams/{teamId}/channels/{channelId}/messages/{messageId}/replies/{replyId}',
    ({ teamId = '', channelId = '', replyId = '' }, c) => {
      const { channel } = c.teams.channel(teamId, channelId);
      admit(c, 'messages', `${teamId}/${channelId}`);
      return single(c, channel.messages.get(replyId), replyId);
    },
  ],
  [
    'GET',
    '{segment}',
    ({ segment = '' }, c) => {
      // An entity by alternate key: `applications(appId='…')`.
      const appId = /^applications\(appId='([^']*)'\)$/i.exec(segment)?.[1];
      if (appId === undefined) throw noSuchSegment(segment);
      return application(c, () => c.sim.applications.get(appId), appId);
    },
  ],
  [
    '*',
    '{*rest}',
    ({ rest = '' }, c) => {
      if (c.req.method !== 'GET') throw new GraphError(405, 'BadRequest', 'The simulator serves only GET for resources.');
      throw noSuchSegment(rest);
    },
  ],
];

function knownUser(call: GraphCall, userId: string): void {
  if (!call.teams.users.has(userId)) throw notFound(`User '${userId}' was not found.`);
}

/** A chat the caller's tenant sees (its own, or a cross-tenant chat with one of its users), with the directory holding it; 404 otherwise. */
const seenChat = (call: GraphCall, chatId: string) => call.sim.tenantDirectories.chatSeenBy(call.caller.tenantId, chatId);

/**
 * Graph's own paths, after the version: the subscriptions API (each route behind the planted faults), then
 * the resources, literal segments before parameters in the same place; the last rows answer 405 or 404.
 */
export const GRAPH_ROUTES: readonly GraphRoute[] = [...SUBSCRIPTION_ROUTES.map(([method, template, handler]): GraphRoute => [method, template, withSubscriptionFaults(handler)]), ...RESOURCE_ROUTES];
