import type { Route } from '../http/route-table.js';
import type { AppGrant } from './app-grants.js';
import { applicationJson } from './applications.js';
import type { DeliveryOptions } from './delivery.js';
import { GraphError, notFound } from './graph-error.js';
import type { GraphSimulator, LifecycleEvent } from './graph-simulator.js';
import type { ReadLimits } from './read-throttle.js';
import type { Answer, SimulatorRequest } from './route-exchange.js';
import { subscriptionJson } from './subscriptions.js';
import type { PostMessageInput } from './teams-directory.js';
import { chatJson, memberJson, messageJson } from './teams-model.js';

/** The driver API's path prefix, kept apart from Graph's own paths. */
export const DRIVER_PREFIX = '/_simulator';

/** One call to the driver API. */
export interface DriverCall {
  readonly sim: GraphSimulator;
  readonly req: SimulatorRequest;
}

type DriverRoute = Route<DriverCall, Answer>;

const ok = (body: unknown, status = 200): Answer => ({ status, body });

/** The named fields of a driver body that have the given type. */
const pick = (body: Record<string, unknown>, names: readonly string[], type: 'number' | 'boolean') => Object.fromEntries(names.filter((k) => typeof body[k] === type).map((k) => [k, body[k]]));

const str = (body: Record<string, unknown>, name: string): string => {
  const v = body[name];
  if (typeof v !== 'string' || !v) throw new GraphError(400, 'BadRequest', `'${name}' is required.`);
  return v;
};

/** A message to post, from the body: `from`, `content`, and optionally `mentions`, `contentType`, `replyToId`. */
const messageOf = (b: Record<string, unknown>): PostMessageInput => ({
  from: str(b, 'from'),
  content: str(b, 'content'),
  mentions: Array.isArray(b.mentions) ? (b.mentions as string[]) : [],
  ...(b.contentType === 'text' || b.contentType === 'html' ? { contentType: b.contentType } : {}),
  ...(typeof b.replyToId === 'string' ? { replyToId: b.replyToId } : {}),
});

/** Who made a membership change, when the body names them. */
const initiatorOf = (b: Record<string, unknown>) => (typeof b.initiatorId === 'string' ? { initiator: b.initiatorId } : {});

/** Acting like Teams users: users, chats, members, messages, teams and channels. */
const TEAMS_ROUTES: DriverRoute[] = [
  ['POST', 'users', (_, { sim, req: { body: b } }) => ok(sim.teams.addUser({ displayName: str(b, 'displayName'), ...(typeof b.id === 'string' ? { id: b.id } : {}) }), 201)],
  [
    'POST',
    'chats',
    (_, { sim, req: { body: b } }) => {
      const chat = sim.teams.createChat({
        members: (b.members as string[]) ?? [],
        ...(typeof b.topic === 'string' ? { topic: b.topic } : {}),
        ...(b.chatType ? { chatType: b.chatType as 'group' } : {}),
      });
      return ok(chatJson(chat), 201);
    },
  ],
  ['PATCH', 'chats/{chatId}', ({ chatId = '' }, { sim, req: { body: b } }) => ok(chatJson(sim.teams.renameChat(chatId, str(b, 'topic'))))],
  [
    'POST',
    'chats/{chatId}/members',
    ({ chatId = '' }, { sim: { teams: t }, req: { body: b } }) => ok(memberJson(t.addMember(chatId, str(b, 'userId'), initiatorOf(b)), t.users.get(str(b, 'userId')), t.tenantId), 201),
  ],
  [
    'DELETE',
    'chats/{chatId}/members/{userId}',
    ({ chatId = '', userId = '' }, { sim: { teams: t }, req: { body: b } }) => ok(memberJson(t.removeMember(chatId, userId, initiatorOf(b)), undefined, t.tenantId)),
  ],
  ['POST', 'chats/{chatId}/messages', ({ chatId = '' }, { sim: { teams: t }, req: { body: b } }) => ok(messageJson(t.postChatMessage(chatId, messageOf(b)), t.users, t.tenantId), 201)],
  [
    'PATCH',
    'chats/{chatId}/messages/{messageId}',
    ({ chatId = '', messageId = '' }, { sim: { teams: t }, req: { body: b } }) => ok(messageJson(t.editChatMessage(chatId, messageId, str(b, 'content')), t.users, t.tenantId)),
  ],
  ['DELETE', 'chats/{chatId}/messages/{messageId}', ({ chatId = '', messageId = '' }, { sim: { teams: t } }) => ok(messageJson(t.deleteChatMessage(chatId, messageId), t.users, t.tenantId))],
  [
    'POST',
    'chats/{chatId}/messages/{messageId}/reactions',
    ({ chatId = '', messageId = '' }, { sim: { teams: t }, req: { body: b } }) =>
      ok(messageJson(t.reactToChatMessage(chatId, messageId, str(b, 'userId'), typeof b.reactionType === 'string' ? b.reactionType : 'like'), t.users, t.tenantId), 201),
  ],
  ['POST', 'chats/{chatId}/hide', ({ chatId = '' }, { sim, req: { body: b } }) => ok(chatJson(sim.teams.hideChat(chatId, str(b, 'userId')), str(b, 'userId')))],
  ['POST', 'chats/{chatId}/installedApps', ({ chatId = '' }, { sim, req: { body: b } }) => ok(chatJson(sim.teams.installApp(chatId, str(b, 'appId'))), 201)],
  [
    'POST',
    'teams',
    (_, { sim, req: { body: b } }) => {
      const team = sim.teams.createTeam({ displayName: str(b, 'displayName'), ...(Array.isArray(b.channels) ? { channels: b.channels as string[] } : {}) });
      return ok({ id: team.id, displayName: team.displayName, channels: [...team.channels.values()].map((c) => ({ id: c.id, displayName: c.displayName })) }, 201);
    },
  ],
  [
    'POST',
    'teams/{teamId}/channels/{channelId}/messages',
    ({ teamId = '', channelId = '' }, { sim: { teams: t }, req: { body: b } }) => ok(messageJson(t.postChannelMessage(teamId, channelId, messageOf(b)), t.users, t.tenantId), 201),
  ],
  [
    'PATCH',
    'teams/{teamId}/channels/{channelId}/messages/{messageId}',
    ({ teamId = '', channelId = '', messageId = '' }, { sim: { teams: t }, req: { body: b } }) =>
      ok(messageJson(t.editChannelMessage(teamId, channelId, messageId, str(b, 'content')), t.users, t.tenantId)),
  ],
  [
    'DELETE',
    'teams/{teamId}/channels/{channelId}/messages/{messageId}',
    ({ teamId = '', channelId = '', messageId = '' }, { sim: { teams: t } }) => ok(messageJson(t.deleteChannelMessage(teamId, channelId, messageId), t.users, t.tenantId)),
  ],
];

/** Steering the simulator: lifecycle events, app grants, application credentials, tenants' settings, faults, the clock, delivery and read limits. */
const CONTROL_ROUTES: DriverRoute[] = [
  [
    'POST',
    'subscriptions/{id}/lifecycle',
    ({ id = '' }, { sim, req: { body: b } }) => {
      const event = str(b, 'lifecycleEvent') as LifecycleEvent;
      if (!['reauthorizationRequired', 'subscriptionRemoved', 'missed'].includes(event)) throw new GraphError(400, 'BadRequest', `Unknown lifecycleEvent '${event}'.`);
      if (!sim.sendLifecycle(id, event)) throw notFound(`Subscription '${id}' does not exist.`);
      return { status: 202 };
    },
  ],
  ['GET', 'subscriptions', (_, { sim }) => ok({ value: sim.subscriptions.active().map((s) => subscriptionJson(s, sim.baseUrl)) })],
  ['GET', 'apps/{appId}/grants', ({ appId = '' }, { sim }) => ok(sim.grants.of(appId))],
  [
    'PATCH',
    'apps/{appId}/grants',
    ({ appId = '' }, { sim, req: { body: b } }) => {
      const grant: Partial<AppGrant> = {
        ...(Array.isArray(b.permissions) ? { permissions: (b.permissions as unknown[]).map(String) } : {}),
        ...(typeof b.protectedApiAccess === 'boolean' ? { protectedApiAccess: b.protectedApiAccess } : {}),
      };
      return ok(sim.grants.set(appId, grant));
    },
  ],
  ['PUT', 'applications/{appId}/credentials', ({ appId = '' }, { sim, req: { body: b } }) => ok(applicationJson(sim.applications.setCredentials(appId, b), undefined))],
  ['GET', 'tenants/{tenantId}', ({ tenantId = '' }, { sim }) => ok({ id: tenantId, ...sim.tenants.of(tenantId) })],
  [
    'PATCH',
    'tenants/{tenantId}',
    ({ tenantId = '' }, { sim, req: { body: b } }) => {
      if ('appRoleAssignmentRequired' in b && typeof b.appRoleAssignmentRequired !== 'boolean') throw new GraphError(400, 'BadRequest', "'appRoleAssignmentRequired' must be true or false.");
      return ok({ id: tenantId, ...sim.tenants.set(tenantId, pick(b, ['appRoleAssignmentRequired'], 'boolean')) });
    },
  ],
  [
    'POST',
    'faults',
    (_, { sim, req: { body: b } }) => {
      sim.faults.failNext(Number(b.count ?? 1), b.status === 503 ? 503 : 429, Number(b.retryAfterSeconds ?? 1));
      return { status: 204 };
    },
  ],
  [
    'POST',
    'clock/advance',
    (_, { sim, req: { body: b } }) => {
      sim.clock.advance(Number(b.minutes ?? 0) * 60_000 + Number(b.ms ?? 0));
      return ok({ now: sim.clock.date().toISOString() });
    },
  ],
  ['GET', 'deliveries', (_, { sim }) => ok({ value: sim.deliveries.log })],
  [
    'PATCH',
    'delivery',
    (_, { sim, req: { body: b } }) => {
      const numbers: (keyof DeliveryOptions)[] = ['maxBatchSize', 'batchWindowMs', 'timeScale', 'duplicateRate', 'requestTimeoutMs'];
      const slow = typeof b.slowEndpoint === 'object' && b.slowEndpoint !== null ? (b.slowEndpoint as Record<string, unknown>) : {};
      const slowEndpoint = {
        ...sim.deliveries.options.slowEndpoint,
        ...pick(slow, ['thresholdMs', 'windowMs', 'delayShare', 'dropShare', 'minNotifications', 'delayMs', 'dropForMs'], 'number'),
        ...pick(slow, ['enabled'], 'boolean'),
      };
      sim.deliveries.options = { ...sim.deliveries.options, ...pick(b, numbers, 'number'), ...pick(b, ['dropAll'], 'boolean'), slowEndpoint };
      return ok(sim.deliveries.options);
    },
  ],
  [
    'PATCH',
    'reads',
    (_, { sim, req: { body: b } }) => {
      const numbers: (keyof ReadLimits)[] = ['windowMs', 'perChatOrChannel', 'perTenantMessageGets', 'perTenantGetAllMessages'];
      sim.reads.options = { ...sim.reads.options, ...pick(b, numbers, 'number'), ...pick(b, ['enabled'], 'boolean') };
      return ok(sim.reads.options);
    },
  ],
  ['GET', 'reads', (_, { sim }) => ok({ options: sim.reads.options, log: sim.reads.log })],
  [
    'DELETE',
    'reads/log',
    (_, { sim }) => {
      sim.reads.reset();
      return { status: 204 };
    },
  ],
];

/** The driver API (after DRIVER_PREFIX): act like Teams users, and steer the simulator; 404 for anything else. */
export const DRIVER_ROUTES: readonly DriverRoute[] = [
  ...TEAMS_ROUTES,
  ...CONTROL_ROUTES,
  [
    '*',
    '{*rest}',
    ({ rest = '' }, { req }) => {
      throw notFound(`No driver route ${req.method} ${DRIVER_PREFIX}/${rest}.`);
    },
  ],
];
