import type { Route } from '../http/route-table.js';
import type { AppGrant } from './app-grants.js';
import { applicationJson } from './applications.js';
import type { DeliveryOptions } from './delivery.js';
import { GraphError, notFound } from './graph-error.js';
import type { GraphSimulator, LifecycleEvent } from './graph-simulator.js';
import type { ReadLimits } from './read-throttle.js';
import type { Answer, SimulatorRequest } from './route-exchange.js';
import { subscriptionJson } from './subscriptions.js';
import type { PostMessageInput, TeamsDirectory } from './teams-directory.js';
import type { SimTenant } from './tenant-directories.js';
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

/** The directory of the tenant the body names (`tenantId`), else the default tenant's; 404 for a tenant never created. */
const directoryNamed = (sim: GraphSimulator, b: Record<string, unknown>): TeamsDirectory => (typeof b.tenantId === 'string' ? sim.tenantDirectories.require(b.tenantId).teams : sim.teams);
/** The directory holding a chat (the tenant it was created in), whichever tenant its members come from. */
const chatHolder = (sim: GraphSimulator, chatId: string) => sim.tenantDirectories.holdingChat(chatId);
/** The directory holding a team. */
const teamHolder = (sim: GraphSimulator, teamId: string) => sim.tenantDirectories.holdingTeam(teamId);

/** Acting like Teams users: users, chats, members, messages, teams and channels, each in its tenant. */
const TEAMS_ROUTES: DriverRoute[] = [
  ['POST', 'users', (_, { sim, req: { body: b } }) => ok(directoryNamed(sim, b).addUser({ displayName: str(b, 'displayName'), ...(typeof b.id === 'string' ? { id: b.id } : {}) }), 201)],
  [
    'POST',
    'chats',
    (_, { sim, req: { body: b } }) => {
      const chat = directoryNamed(sim, b).createChat({
        members: (b.members as string[]) ?? [],
        ...(typeof b.topic === 'string' ? { topic: b.topic } : {}),
        ...(b.chatType ? { chatType: b.chatType as 'group' } : {}),
      });
      return ok(chatJson(chat), 201);
    },
  ],
  ['PATCH', 'chats/{chatId}', ({ chatId = '' }, { sim, req: { body: b } }) => ok(chatJson(chatHolder(sim, chatId).renameChat(chatId, str(b, 'topic'))))],
  [
    'POST',
    'chats/{chatId}/members',
    ({ chatId = '' }, { sim, req: { body: b } }) => {
      const t = chatHolder(sim, chatId);
      return ok(memberJson(t.addMember(chatId, str(b, 'userId'), initiatorOf(b)), t.users.get(str(b, 'userId')), t.tenantId), 201);
    },
  ],
  [
    'DELETE',
    'chats/{chatId}/members/{userId}',
    ({ chatId = '', userId = '' }, { sim, req: { body: b } }) => {
      const t = chatHolder(sim, chatId);
      return ok(memberJson(t.removeMember(chatId, userId, initiatorOf(b)), undefined, t.tenantId));
    },
  ],
  [
    'POST',
    'chats/{chatId}/messages',
    ({ chatId = '' }, { sim, req: { body: b } }) => {
      const t = chatHolder(sim, chatId);
      return ok(messageJson(t.postChatMessage(chatId, messageOf(b)), t.users, t.tenantId), 201);
    },
  ],
  [
    'PATCH',
    'chats/{chatId}/messages/{messageId}',
    ({ chatId = '', messageId = '' }, { sim, req: { body: b } }) => {
      const t = chatHolder(sim, chatId);
      return ok(messageJson(t.editChatMessage(chatId, messageId, str(b, 'content')), t.users, t.tenantId));
    },
  ],
  [
    'DELETE',
    'chats/{chatId}/messages/{messageId}',
    ({ chatId = '', messageId = '' }, { sim }) => {
      const t = chatHolder(sim, chatId);
      return ok(messageJson(t.deleteChatMessage(chatId, messageId), t.users, t.tenantId));
    },
  ],
  [
    'POST',
    'chats/{chatId}/messages/{messageId}/reactions',
    ({ chatId = '', messageId = '' }, { sim, req: { body: b } }) => {
      const t = chatHolder(sim, chatId);
      return ok(messageJson(t.reactToChatMessage(chatId, messageId, str(b, 'userId'), typeof b.reactionType === 'string' ? b.reactionType : 'like'), t.users, t.tenantId), 201);
    },
  ],
  ['POST', 'chats/{chatId}/hide', ({ chatId = '' }, { sim, req: { body: b } }) => ok(chatJson(chatHolder(sim, chatId).hideChat(chatId, str(b, 'userId')), str(b, 'userId')))],
  ['POST', 'chats/{chatId}/installedApps', ({ chatId = '' }, { sim, req: { body: b } }) => ok(chatJson(chatHolder(sim, chatId).installApp(chatId, str(b, 'appId'))), 201)],
  [
    'POST',
    'teams',
    (_, { sim, req: { body: b } }) => {
      const team = directoryNamed(sim, b).createTeam({ displayName: str(b, 'displayName'), ...(Array.isArray(b.channels) ? { channels: b.channels as string[] } : {}) });
      return ok({ id: team.id, displayName: team.displayName, tenantId: team.tenantId, channels: [...team.channels.values()].map((c) => ({ id: c.id, displayName: c.displayName })) }, 201);
    },
  ],
  [
    'POST',
    'teams/{teamId}/channels/{channelId}/messages',
    ({ teamId = '', channelId = '' }, { sim, req: { body: b } }) => {
      const t = teamHolder(sim, teamId);
      return ok(messageJson(t.postChannelMessage(teamId, channelId, messageOf(b)), t.users, t.tenantId), 201);
    },
  ],
  [
    'PATCH',
    'teams/{teamId}/channels/{channelId}/messages/{messageId}',
    ({ teamId = '', channelId = '', messageId = '' }, { sim, req: { body: b } }) => {
      const t = teamHolder(sim, teamId);
      return ok(messageJson(t.editChannelMessage(teamId, channelId, messageId, str(b, 'content')), t.users, t.tenantId));
    },
  ],
  [
    'DELETE',
    'teams/{teamId}/channels/{channelId}/messages/{messageId}',
    ({ teamId = '', channelId = '', messageId = '' }, { sim }) => {
      const t = teamHolder(sim, teamId);
      return ok(messageJson(t.deleteChannelMessage(teamId, channelId, messageId), t.users, t.tenantId));
    },
  ],
];

/** A tenant as the driver lists it: id, name and its settings (the #27 flag). */
const tenantJson = (sim: GraphSimulator, tenant: SimTenant) => ({ id: tenant.id, displayName: tenant.displayName, ...sim.tenants.of(tenant.id) });

/** The permissions of a consent body: an array of strings. */
const permissionsOf = (b: Record<string, unknown>): string[] => {
  if (!Array.isArray(b.permissions) || !b.permissions.every((p): p is string => typeof p === 'string'))
    throw new GraphError(400, 'BadRequest', "'permissions' must be an array of application permission names.");
  return b.permissions;
};

/** Tenants: creating them, listing them, and each app's admin consent in each. */
const TENANT_ROUTES: DriverRoute[] = [
  ['GET', 'tenants', (_, { sim }) => ok({ value: sim.tenantDirectories.list().map((t) => tenantJson(sim, t)) })],
  [
    'POST',
    'tenants',
    (_, { sim, req: { body: b } }) => {
      if (b.id !== undefined && (typeof b.id !== 'string' || !b.id)) throw new GraphError(400, 'BadRequest', "'id' must be a tenant id.");
      const tenant = sim.tenantDirectories.create({ displayName: str(b, 'displayName'), ...(typeof b.id === 'string' ? { id: b.id } : {}) });
      return ok(tenantJson(sim, tenant), 201);
    },
  ],
  ['POST', 'tenants/{tenantId}/consent', ({ tenantId = '' }, { sim, req: { body: b } }) => ok(sim.grants.consent(sim.tenantDirectories.require(tenantId).id, str(b, 'appId'), permissionsOf(b)))],
  [
    'DELETE',
    'tenants/{tenantId}/consent/{appId}',
    ({ tenantId = '', appId = '' }, { sim }) => {
      if (!sim.revokeConsent(tenantId, appId)) throw notFound(`App '${appId}' has no consent in tenant '${tenantId}'.`);
      return { status: 204 };
    },
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
  [
    'GET',
    'subscriptions',
    (_, { sim, req: { query } }) => {
      // `?tenantId=`: only that tenant's subscriptions (every tenant's without it).
      const tenantId = query.get('tenantId')?.toLowerCase();
      const subscriptions = sim.subscriptions.active().filter((s) => tenantId === undefined || s.tenantId.toLowerCase() === tenantId);
      return ok({ value: subscriptions.map((s) => subscriptionJson(s, sim.baseUrl)) });
    },
  ],
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

/** The driver API (after DRIVER_PREFIX): act like Teams users, hold tenants, and steer the simulator; 404 for anything else. */
export const DRIVER_ROUTES: readonly DriverRoute[] = [
  ...TEAMS_ROUTES,
  ...TENANT_ROUTES,
  ...CONTROL_ROUTES,
  [
    '*',
    '{*rest}',
    ({ rest = '' }, { req }) => {
      throw notFound(`No driver route ${req.method} ${DRIVER_PREFIX}/${rest}.`);
    },
  ],
];
