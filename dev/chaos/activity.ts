import type { ActivityOp, ChaosPlan } from './plan.js';
import type { Driver } from './driver.js';

/** The simulator's ids of what the plan numbers in one tenant: its users, channels, chats and messages, as they are created. */
export interface Ids {
  /** The tenant they live in; absent: the simulator's default tenant. */
  readonly tenantId?: string;
  readonly users: string[];
  readonly channels: { team: string; channel: string }[];
  readonly chats: string[];
  readonly chatMessages: string[];
  readonly channelMessages: string[];
}

/**
 * The plan's users and teams (two channels each) in one tenant (absent: the simulator's default one), made
 * through the driver before the activity starts.
 */
export async function setUp(driver: Driver, plan: ChaosPlan, tenantId?: string): Promise<Ids> {
  const inTenant = tenantId === undefined ? {} : { tenantId };
  const users: string[] = [];
  for (let i = 0; i < plan.users; i++) users.push((await driver.call<{ id: string }>('POST', '/users', { displayName: `Chaos User ${i}`, ...inTenant })).id);
  const channels: { team: string; channel: string }[] = [];
  for (let t = 0; channels.length < plan.channels; t++) {
    const team = await driver.call<{ id: string; channels: { id: string }[] }>('POST', '/teams', { displayName: `Chaos team ${t}`, channels: ['General', 'Random'], ...inTenant });
    for (const c of team.channels) if (channels.length < plan.channels) channels.push({ team: team.id, channel: c.id });
  }
  return { ...inTenant, users, channels, chats: [], chatMessages: [], channelMessages: [] };
}

/** One activity operation, as a Teams user of `ids`' tenant would do it; a created chat's or message's id is kept in `ids`. */
export async function perform(driver: Driver, ids: Ids, op: ActivityOp): Promise<void> {
  const enc = encodeURIComponent;
  const chat = 'chat' in op ? enc(ids.chats[op.chat] ?? '') : '';
  const channelPath = 'channel' in op ? `/teams/${ids.channels[op.channel]!.team}/channels/${enc(ids.channels[op.channel]!.channel)}/messages` : '';
  switch (op.op) {
    case 'createChat':
      ids.chats[op.chat] = (
        await driver.call<{ id: string }>('POST', '/chats', {
          members: op.members.map((u) => ids.users[u]),
          topic: op.topic,
          chatType: 'group',
          ...(ids.tenantId === undefined ? {} : { tenantId: ids.tenantId }),
        })
      ).id;
      return;
    case 'renameChat':
      await driver.call('PATCH', `/chats/${chat}`, { topic: op.topic });
      return;
    case 'addMember':
      await driver.call('POST', `/chats/${chat}/members`, { userId: ids.users[op.user] });
      return;
    case 'removeMember':
      await driver.call('DELETE', `/chats/${chat}/members/${ids.users[op.user]}`);
      return;
    case 'hideChat':
      await driver.call('POST', `/chats/${chat}/hide`, { userId: ids.users[op.user] });
      return;
    case 'postChatMessage':
      ids.chatMessages[op.message] = (await driver.call<{ id: string }>('POST', `/chats/${chat}/messages`, { from: ids.users[op.from], content: op.content })).id;
      return;
    case 'editChatMessage':
      await driver.call('PATCH', `/chats/${chat}/messages/${ids.chatMessages[op.message]}`, { content: op.content });
      return;
    case 'deleteChatMessage':
      await driver.call('DELETE', `/chats/${chat}/messages/${ids.chatMessages[op.message]}`);
      return;
    case 'postChannelMessage':
      ids.channelMessages[op.message] = (
        await driver.call<{ id: string }>('POST', channelPath, { from: ids.users[op.from], content: op.content, ...(op.replyTo !== undefined ? { replyToId: ids.channelMessages[op.replyTo] } : {}) })
      ).id;
      return;
    case 'editChannelMessage':
      await driver.call('PATCH', `${channelPath}/${ids.channelMessages[op.message]}`, { content: op.content });
      return;
    case 'deleteChannelMessage':
      await driver.call('DELETE', `${channelPath}/${ids.channelMessages[op.message]}`);
      return;
  }
}
