import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppGrant } from './app-grants.js';
import type { DeliveryOptions } from './delivery.js';
import { GraphError, notFound } from './graph-error.js';
import type { GraphSimulator, LifecycleEvent } from './graph-simulator.js';
import { subscriptionJson, type Caller } from './subscriptions.js';
import { channelMessagesDelta, DELETED_VISIBLE_MS, listChatMessages, listUserChats, teamChannelsGetAllMessages, userChatsGetAllMessages, type ReadRequestContext } from './read-api.js';
import type { ReadKind, ReadLimits } from './read-throttle.js';
import type { PostMessageInput } from './teams-directory.js';
import { chatJson, memberJson, messageJson, type SimMessage } from './teams-model.js';

export interface SimulatorServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The driver API's path prefix, kept apart from Graph's own paths. */
export const DRIVER_PREFIX = '/_simulator';

interface Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

function callerOf(sim: GraphSimulator, authorization: string | undefined): Caller {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  let claims: Record<string, unknown> = {};
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure: the token is not a JWT.');
    }
  }
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const userId = claims.scp ? str(claims.oid) : undefined;
  // The token's remaining life (real time, as Entra issued it) decides how long a subscription stays authorized.
  const tokenLifetimeMs = typeof claims.exp === 'number' ? Math.max(0, claims.exp * 1000 - Date.now()) : undefined;
  return {
    appId: str(claims.appid) ?? str(claims.azp) ?? sim.appId,
    tenantId: str(claims.tid) ?? sim.tenantId,
    ...(userId ? { userId } : {}),
    ...(tokenLifetimeMs !== undefined ? { tokenLifetimeMs } : {}),
  };
}

const list = <T>(value: T[], context: string) => ({ '@odata.context': context, value });

/** Graph's own paths, under /v1.0 and /beta. */
async function graphRoute(sim: GraphSimulator, req: Request, version: 'v1.0' | 'beta', rest: string[]): Promise<Answer> {
  const caller = callerOf(sim, req.headers.authorization);
  const base = sim.baseUrl;
  const [head, id, action, ...more] = rest;

  if (head === 'subscriptions') {
    const fault = sim.faults.take();
    if (fault) {
      const error =
        fault.status === 429
          ? new GraphError(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(fault.retryAfterSeconds) })
          : new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable.', { 'retry-after': String(fault.retryAfterSeconds) });
      throw error;
    }
    if (!id && req.method === 'POST') return { status: 201, body: subscriptionJson(await sim.subscriptions.create(caller, version, req.body), base) };
    if (!id && req.method === 'GET') {
      return {
        status: 200,
        body: list(
          sim.subscriptions.list(caller).map((s) => subscriptionJson(s, base, 'list')),
          `${base}/${version}/$metadata#subscriptions`,
        ),
      };
    }
    if (id && !action && req.method === 'GET') return { status: 200, body: subscriptionJson(sim.subscriptions.get(caller, id), base) };
    if (id && !action && req.method === 'PATCH') return { status: 200, body: subscriptionJson(await sim.subscriptions.update(caller, id, req.body), base) };
    if (id && !action && req.method === 'DELETE') {
      sim.subscriptions.delete(caller, id);
      return { status: 204 };
    }
    if (id && action === 'reauthorize' && req.method === 'POST') {
      await sim.subscriptions.reauthorize(caller, id);
      return { status: 204 };
    }
    throw new GraphError(405, 'BadRequest', `${req.method} is not supported on this path.`);
  }

  if (req.method !== 'GET') throw new GraphError(405, 'BadRequest', 'The simulator serves only GET for resources.');
  const tenant = sim.tenantId;
  const users = sim.teams.users;
  const includeUnknownEnumMembers = /(^|[,;\s])include-unknown-enum-members($|[,;\s])/i.test(String(req.headers.prefer ?? ''));
  const nowMs = sim.clock.now();
  const ctx: ReadRequestContext = {
    teams: sim.teams,
    tokens: sim.pagingTokens,
    nowMs,
    versionBase: `${base}/${version}`,
    path: '/' + rest.join('/'),
    query: req.query,
    includeUnknownEnumMembers,
  };
  const admit = (kind: ReadKind, container: string | null) => sim.reads.admit({ appId: caller.appId, tenantId: caller.tenantId, kind, container, path: ctx.path });
  /** A single message as GET returns it; a soft-deleted one only within the 21 days Graph keeps it readable. */
  const single = (message: SimMessage | undefined, wanted: string | undefined): Answer => {
    if (!message || (message.deletedDateTime && nowMs - Date.parse(message.deletedDateTime) > DELETED_VISIBLE_MS)) throw notFound(`Message '${wanted}' was not found.`);
    return { status: 200, body: messageJson(message, users, tenant, { includeUnknownEnumMembers }) };
  };
  // Tenant-wide listings a backfill walks (`$select` is accepted and ignored: the items are small).
  if (head === 'users' && !id)
    return {
      status: 200,
      body: list(
        [...users.values()].map((u) => ({ id: u.id, displayName: u.displayName })),
        `${base}/${version}/$metadata#users`,
      ),
    };
  if (head === 'teams' && !id)
    return {
      status: 200,
      body: list(
        [...sim.teams.teams.values()].map((t) => ({ id: t.id, displayName: t.displayName })),
        `${base}/${version}/$metadata#teams`,
      ),
    };
  if (head === 'users' && id && action === 'chats') {
    if (!users.has(id)) throw notFound(`User '${id}' was not found.`);
    const [fn, ...extra] = more;
    if (!fn) return { status: 200, body: listUserChats(ctx, id) };
    if (fn === 'getAllMessages' && extra.length === 0) {
      admit('getAllMessages', null);
      return { status: 200, body: userChatsGetAllMessages(ctx, id) };
    }
  }
  if (head === 'chats' && id) {
    const chat = sim.teams.chat(id);
    if (!action) return { status: 200, body: chatJson(chat, caller.userId) };
    if (action === 'members') {
      const [memberId] = more;
      if (!memberId)
        return {
          status: 200,
          body: list(
            [...chat.members.values()].map((m) => memberJson(m, users.get(m.userId), tenant)),
            `${base}/${version}/$metadata#chats('${id}')/members`,
          ),
        };
      const member = chat.members.get(memberId);
      if (!member) throw notFound(`Member '${memberId}' was not found.`);
      return { status: 200, body: memberJson(member, users.get(member.userId), tenant) };
    }
    if (action === 'messages') {
      const [messageId] = more;
      admit('messages', chat.id);
      if (!messageId) return { status: 200, body: listChatMessages(ctx, chat) };
      return single(chat.messages.get(messageId), messageId);
    }
  }
  if (head === 'teams' && id && action === 'channels') {
    const [channelId, messages, messageId, replies, replyId] = more;
    if (channelId === 'getAllMessages' && !messages) {
      const team = sim.teams.teams.get(id);
      if (!team) throw notFound(`Team '${id}' was not found.`);
      admit('getAllMessages', null);
      return { status: 200, body: teamChannelsGetAllMessages(ctx, team) };
    }
    if (channelId && messages === 'messages') {
      const { team, channel } = sim.teams.channel(id, channelId);
      admit('messages', `${id}/${channelId}`);
      if (messageId === 'delta' && !replies) return { status: 200, body: channelMessagesDelta(ctx, team, channel) };
      if (!messageId) {
        const roots = [...channel.messages.values()].filter((m) => !m.replyToId && (!m.deletedDateTime || nowMs - Date.parse(m.deletedDateTime) <= DELETED_VISIBLE_MS));
        return {
          status: 200,
          body: list(
            roots.map((m) => messageJson(m, users, tenant, { includeUnknownEnumMembers })),
            `${base}/${version}/$metadata#messages`,
          ),
        };
      }
      const wanted = replies === 'replies' ? replyId : messageId;
      return single(wanted ? channel.messages.get(wanted) : undefined, wanted);
    }
  }
  throw notFound(`Resource not found for the segment '${rest.join('/')}'.`);
}

/** The named fields of a driver body that have the given type. */
const pick = (body: Record<string, unknown>, names: readonly string[], type: 'number' | 'boolean') => Object.fromEntries(names.filter((k) => typeof body[k] === type).map((k) => [k, body[k]]));

const str = (body: Record<string, unknown>, name: string): string => {
  const v = body[name];
  if (typeof v !== 'string' || !v) throw new GraphError(400, 'BadRequest', `'${name}' is required.`);
  return v;
};

/** The driver API: act like Teams users, and steer the simulator. */
function driverRoute(sim: GraphSimulator, req: Request, rest: string[]): Answer {
  const t = sim.teams;
  const b = req.body;
  const m = req.method;
  const [a, id, sub, subId, x, xId] = rest;
  const mentions = Array.isArray(b.mentions) ? (b.mentions as string[]) : [];
  const message = (): PostMessageInput => ({
    from: str(b, 'from'),
    content: str(b, 'content'),
    mentions,
    ...(b.contentType === 'text' || b.contentType === 'html' ? { contentType: b.contentType } : {}),
    ...(typeof b.replyToId === 'string' ? { replyToId: b.replyToId } : {}),
  });
  const ok = (body: unknown, status = 200): Answer => ({ status, body });

  if (a === 'users' && m === 'POST') return ok(t.addUser({ displayName: str(b, 'displayName'), ...(typeof b.id === 'string' ? { id: b.id } : {}) }), 201);
  if (a === 'chats' && !id && m === 'POST') {
    const chat = t.createChat({ members: (b.members as string[]) ?? [], ...(typeof b.topic === 'string' ? { topic: b.topic } : {}), ...(b.chatType ? { chatType: b.chatType as 'group' } : {}) });
    return ok(chatJson(chat), 201);
  }
  if (a === 'chats' && id) {
    if (!sub && m === 'PATCH') return ok(chatJson(t.renameChat(id, str(b, 'topic'))));
    const initiator = typeof b.initiatorId === 'string' ? { initiator: b.initiatorId } : {};
    if (sub === 'members' && m === 'POST') return ok(memberJson(t.addMember(id, str(b, 'userId'), initiator), t.users.get(str(b, 'userId')), t.tenantId), 201);
    if (sub === 'members' && subId && m === 'DELETE') return ok(memberJson(t.removeMember(id, subId, initiator), undefined, t.tenantId));
    if (sub === 'messages' && !subId && m === 'POST') return ok(messageJson(t.postChatMessage(id, message()), t.users, t.tenantId), 201);
    if (sub === 'messages' && subId && m === 'PATCH') return ok(messageJson(t.editChatMessage(id, subId, str(b, 'content')), t.users, t.tenantId));
    if (sub === 'messages' && subId && m === 'DELETE') return ok(messageJson(t.deleteChatMessage(id, subId), t.users, t.tenantId));
    if (sub === 'messages' && subId && x === 'reactions' && m === 'POST') {
      return ok(messageJson(t.reactToChatMessage(id, subId, str(b, 'userId'), typeof b.reactionType === 'string' ? b.reactionType : 'like'), t.users, t.tenantId), 201);
    }
    if (sub === 'hide' && m === 'POST') return ok(chatJson(t.hideChat(id, str(b, 'userId')), str(b, 'userId')));
    if (sub === 'installedApps' && m === 'POST') return ok(chatJson(t.installApp(id, str(b, 'appId'))), 201);
  }
  if (a === 'teams' && !id && m === 'POST') {
    const team = t.createTeam({ displayName: str(b, 'displayName'), ...(Array.isArray(b.channels) ? { channels: b.channels as string[] } : {}) });
    return ok({ id: team.id, displayName: team.displayName, channels: [...team.channels.values()].map((c) => ({ id: c.id, displayName: c.displayName })) }, 201);
  }
  if (a === 'teams' && id && sub === 'channels' && subId && x === 'messages') {
    if (!xId && m === 'POST') return ok(messageJson(t.postChannelMessage(id, subId, message()), t.users, t.tenantId), 201);
    if (xId && m === 'PATCH') return ok(messageJson(t.editChannelMessage(id, subId, xId, str(b, 'content')), t.users, t.tenantId));
    if (xId && m === 'DELETE') return ok(messageJson(t.deleteChannelMessage(id, subId, xId), t.users, t.tenantId));
  }
  if (a === 'subscriptions' && id && sub === 'lifecycle' && m === 'POST') {
    const event = str(b, 'lifecycleEvent') as LifecycleEvent;
    if (!['reauthorizationRequired', 'subscriptionRemoved', 'missed'].includes(event)) throw new GraphError(400, 'BadRequest', `Unknown lifecycleEvent '${event}'.`);
    if (!sim.sendLifecycle(id, event)) throw notFound(`Subscription '${id}' does not exist.`);
    return { status: 202 };
  }
  if (a === 'apps' && id && sub === 'grants' && !subId) {
    if (m === 'GET') return ok(sim.grants.of(id));
    if (m === 'PATCH') {
      const grant: Partial<AppGrant> = {
        ...(Array.isArray(b.permissions) ? { permissions: (b.permissions as unknown[]).map(String) } : {}),
        ...(typeof b.protectedApiAccess === 'boolean' ? { protectedApiAccess: b.protectedApiAccess } : {}),
      };
      return ok(sim.grants.set(id, grant));
    }
  }
  if (a === 'faults' && m === 'POST') {
    sim.faults.failNext(Number(b.count ?? 1), b.status === 503 ? 503 : 429, Number(b.retryAfterSeconds ?? 1));
    return { status: 204 };
  }
  if (a === 'clock' && id === 'advance' && m === 'POST') {
    sim.clock.advance(Number(b.minutes ?? 0) * 60_000 + Number(b.ms ?? 0));
    return ok({ now: sim.clock.date().toISOString() });
  }
  if (a === 'deliveries' && m === 'GET') return ok({ value: sim.deliveries.log });
  if (a === 'delivery' && m === 'PATCH') {
    const numbers: (keyof DeliveryOptions)[] = ['maxBatchSize', 'batchWindowMs', 'timeScale', 'duplicateRate', 'requestTimeoutMs'];
    const slow = typeof b.slowEndpoint === 'object' && b.slowEndpoint !== null ? (b.slowEndpoint as Record<string, unknown>) : {};
    const slowEndpoint = {
      ...sim.deliveries.options.slowEndpoint,
      ...pick(slow, ['thresholdMs', 'windowMs', 'delayShare', 'dropShare', 'minNotifications', 'delayMs', 'dropForMs'], 'number'),
      ...pick(slow, ['enabled'], 'boolean'),
    };
    sim.deliveries.options = { ...sim.deliveries.options, ...pick(b, numbers, 'number'), ...pick(b, ['dropAll'], 'boolean'), slowEndpoint };
    return ok(sim.deliveries.options);
  }
  if (a === 'reads' && !id && m === 'PATCH') {
    const numbers: (keyof ReadLimits)[] = ['windowMs', 'perChatOrChannel', 'perTenantMessageGets', 'perTenantGetAllMessages'];
    sim.reads.options = { ...sim.reads.options, ...pick(b, numbers, 'number'), ...pick(b, ['enabled'], 'boolean') };
    return ok(sim.reads.options);
  }
  if (a === 'reads' && !id && m === 'GET') return ok({ options: sim.reads.options, log: sim.reads.log });
  if (a === 'reads' && id === 'log' && m === 'DELETE') {
    sim.reads.reset();
    return { status: 204 };
  }
  if (a === 'subscriptions' && !id && m === 'GET') {
    return ok({ value: sim.subscriptions.active().map((s) => subscriptionJson(s, sim.baseUrl)) });
  }
  throw notFound(`No driver route ${m} ${DRIVER_PREFIX}/${rest.join('/')}.`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GraphError(400, 'BadRequest', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export async function createSimulatorServer(sim: GraphSimulator, host: string, port: number): Promise<SimulatorServer> {
  const server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      let answer: Answer;
      try {
        const url = new URL(incoming.url ?? '/', 'http://simulator');
        const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
        const req: Request = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, body: await readJson(incoming) };
        const [first, ...rest] = segments;
        if (first === 'v1.0' || first === 'beta') answer = await graphRoute(sim, req, first, rest);
        else if ('/' + first === DRIVER_PREFIX) answer = driverRoute(sim, req, rest);
        else if (segments.length === 4 && segments[1] === 'discovery' && segments[2] === 'v2.0' && segments[3] === 'keys') answer = { status: 200, body: await sim.signer.jwks() };
        else throw notFound(`No route for ${url.pathname}.`);
      } catch (e) {
        const ge = e instanceof GraphError ? e : new GraphError(500, 'InternalServerError', (e as Error).message);
        res.writeHead(ge.status, { 'content-type': 'application/json', ...ge.headers }).end(ge.body(sim.clock.date()));
        return;
      }
      const headers = { ...(answer.body !== undefined ? { 'content-type': 'application/json; odata.metadata=minimal' } : {}), ...answer.headers };
      res.writeHead(answer.status, headers).end(answer.body !== undefined ? JSON.stringify(answer.body) : undefined);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
