import { randomUUID } from 'node:crypto';
import type { SimulatorClock } from './clock.js';
import { badRequest, notFound } from './graph-error.js';
import { MessageIndex } from './message-index.js';
import { memberId, newChannelId, newChatId, type SimChannel, type SimChat, type SimMember, type SimMembershipEvent, type SimMessage, type SimTeam, type SimUser } from './teams-model.js';

/** What changed, for the notification router. */
export type ChangeEvent =
  | { readonly kind: 'chat'; readonly changeType: 'created' | 'updated'; readonly chat: SimChat; readonly userSpecificFor?: string }
  | {
      readonly kind: 'member';
      readonly changeType: 'created' | 'deleted';
      readonly chat: SimChat;
      readonly member: SimMember;
      /** The time of the system event message the change left in the chat's history (every one but a chat's first members). */
      readonly historyAt?: string;
    }
  | { readonly kind: 'chatMessage'; readonly changeType: 'created' | 'updated' | 'deleted'; readonly chat: SimChat; readonly message: SimMessage }
  | {
      readonly kind: 'channelMessage';
      readonly changeType: 'created' | 'updated' | 'deleted';
      readonly team: SimTeam;
      readonly channel: SimChannel;
      readonly message: SimMessage;
    };

export interface PostMessageInput {
  readonly from: string;
  readonly content: string;
  readonly contentType?: 'text' | 'html';
  /** User ids mentioned; each gets a mention entity. */
  readonly mentions?: readonly string[];
  readonly replyToId?: string;
}

/** A user of another tenant, where the user lives: what a chat adding them as a member needs to know. */
export type GuestLookup = (userId: string) => { readonly user: SimUser; readonly tenantId: string } | undefined;

/** A user's membership of a chat over time: when it ended (ms of simulated time), or null while it lasts. */
export interface ChatMembershipSpan {
  leftAtMs: number | null;
}

/**
 * Acts like Teams users: chats, members, messages in chats and channels, hiding a chat, installing an app.
 * Every change is passed to `emit`, which turns it into notifications.
 */
export class TeamsDirectory {
  readonly users = new Map<string, SimUser>();
  readonly chats = new Map<string, SimChat>();
  readonly teams = new Map<string, SimTeam>();
  /** Every message change, for the read APIs' windows and paging. */
  readonly messageIndex = new MessageIndex();
  /** Per user, the chats they are or were members of (for `/users/{id}/chats` and `getAllMessages`). */
  readonly membershipsByUser = new Map<string, Map<string, ChatMembershipSpan>>();
  readonly #clock: SimulatorClock;
  readonly #emit: (event: ChangeEvent) => void;
  readonly #findGuest: GuestLookup | undefined;
  /** Users of other tenants who joined a chat of this one (kept in `users`, as B2B guests are), by their home tenant. */
  readonly guestTenants = new Map<string, string>();
  readonly tenantId: string;
  #lastMessageId = 0;
  #lastNowMs = 0;

  /** `findGuest`: a user id this tenant does not hold, looked up in the other tenants (a cross-tenant chat's member). */
  constructor(tenantId: string, clock: SimulatorClock, emit: (event: ChangeEvent) => void, findGuest?: GuestLookup) {
    this.tenantId = tenantId;
    this.#clock = clock;
    this.#emit = emit;
    this.#findGuest = findGuest;
  }

  /** Whether the user is one of this tenant's own (not a guest from another tenant). */
  isHomeUser(userId: string): boolean {
    return this.users.has(userId) && !this.guestTenants.has(userId);
  }

  /** Simulated time that never goes back (the read index relies on it). */
  #nowMs(): number {
    this.#lastNowMs = Math.max(this.#lastNowMs, this.#clock.now());
    return this.#lastNowMs;
  }

  #now(): string {
    return new Date(this.#nowMs()).toISOString();
  }

  /** Message ids are millisecond timestamps, unique and increasing, as in Teams. */
  #messageId(): string {
    this.#lastMessageId = Math.max(this.#lastMessageId + 1, this.#nowMs());
    return String(this.#lastMessageId);
  }

  addUser(input: { id?: string; displayName: string; email?: string }): SimUser {
    const user: SimUser = {
      id: input.id ?? randomUUID(),
      displayName: input.displayName,
      email: input.email ?? `${input.displayName.toLowerCase().replace(/\W+/g, '.')}@contoso.example`,
    };
    this.users.set(user.id, user);
    return user;
  }

  chat(chatId: string): SimChat {
    const chat = this.chats.get(chatId);
    if (!chat) throw notFound(`Chat '${chatId}' was not found.`);
    return chat;
  }

  createChat(input: { chatType?: 'oneOnOne' | 'group'; topic?: string; members: readonly string[] }): SimChat {
    const chatType = input.chatType ?? (input.members.length === 2 ? 'oneOnOne' : 'group');
    if (chatType === 'oneOnOne' && input.members.length !== 2) throw badRequest('A oneOnOne chat has exactly two members.', 'BadRequest');
    const now = this.#now();
    const chat: SimChat = {
      id: newChatId(),
      chatType,
      topic: input.topic ?? null,
      createdDateTime: now,
      lastUpdatedDateTime: now,
      tenantId: this.tenantId,
      members: new Map(),
      messages: new Map(),
      hiddenFor: new Set(),
      installedApps: new Set(),
    };
    this.chats.set(chat.id, chat);
    this.#emit({ kind: 'chat', changeType: 'created', chat });
    for (const userId of input.members) this.#addMember(chat, userId, {}, false);
    return chat;
  }

  renameChat(chatId: string, topic: string): SimChat {
    const chat = this.chat(chatId);
    chat.topic = topic;
    chat.lastUpdatedDateTime = this.#now();
    this.#emit({ kind: 'chat', changeType: 'updated', chat });
    return chat;
  }

  /**
   * Adds a member. Past the chat's creation this is a membership change: it bumps `lastUpdatedDateTime` and
   * writes a `membersAdded` system event message (by `initiator`, default the user themselves).
   */
  addMember(chatId: string, userId: string, options: { roles?: string[]; initiator?: string } = {}): SimMember {
    return this.#addMember(this.chat(chatId), userId, options, true);
  }

  #addMember(chat: SimChat, userId: string, options: { roles?: string[]; initiator?: string }, recordEvent: boolean): SimMember {
    const guest = this.users.has(userId) ? undefined : this.#findGuest?.(userId);
    if (guest) {
      this.users.set(userId, guest.user);
      this.guestTenants.set(userId, guest.tenantId);
    } else if (!this.users.has(userId)) this.addUser({ id: userId, displayName: `User ${userId.slice(0, 8)}` });
    const now = this.#now();
    const home = this.guestTenants.get(userId);
    const member: SimMember = { id: memberId(chat.id, userId, chat.tenantId), userId, roles: options.roles ?? ['Owner'], addedDateTime: now, ...(home ? { tenantId: home } : {}) };
    chat.members.set(member.id, member);
    this.#membershipsOf(userId).set(chat.id, { leftAtMs: null });
    if (recordEvent) {
      // One instant for the change: the chat's lastUpdatedDateTime is the event message's createdDateTime.
      chat.lastUpdatedDateTime = this.#recordSystemEvent(chat, { kind: 'membersAdded', initiatorUserId: options.initiator ?? userId, userIds: [userId] }).createdDateTime;
    }
    this.#emit({ kind: 'member', changeType: 'created', chat, member, ...(recordEvent ? { historyAt: chat.lastUpdatedDateTime } : {}) });
    return member;
  }

  /** Removes a member: bumps `lastUpdatedDateTime` and writes a `membersDeleted` system event message. */
  removeMember(chatId: string, memberOrUserId: string, options: { initiator?: string } = {}): SimMember {
    const chat = this.chat(chatId);
    const member = chat.members.get(memberOrUserId) ?? [...chat.members.values()].find((m) => m.userId === memberOrUserId);
    if (!member) throw notFound(`Member '${memberOrUserId}' is not in chat '${chatId}'.`);
    chat.members.delete(member.id);
    this.#membershipsOf(member.userId).set(chat.id, { leftAtMs: this.#nowMs() });
    chat.lastUpdatedDateTime = this.#recordSystemEvent(chat, { kind: 'membersDeleted', initiatorUserId: options.initiator ?? member.userId, userIds: [member.userId] }).createdDateTime;
    this.#emit({ kind: 'member', changeType: 'deleted', chat, member, historyAt: chat.lastUpdatedDateTime });
    return member;
  }

  #membershipsOf(userId: string): Map<string, ChatMembershipSpan> {
    let spans = this.membershipsByUser.get(userId);
    if (!spans) this.membershipsByUser.set(userId, (spans = new Map<string, ChatMembershipSpan>()));
    return spans;
  }

  /** A system event message in the chat's history, notified to message subscriptions like any new message. */
  #recordSystemEvent(chat: SimChat, event: SimMembershipEvent): SimMessage {
    const message: SimMessage = {
      ...this.#newMessage({ from: event.initiatorUserId, content: '<systemEventMessage/>', contentType: 'html' }, { kind: 'chat', chatId: chat.id }),
      fromUserId: null,
      event,
    };
    this.#store(chat.messages, message);
    this.#emit({ kind: 'chatMessage', changeType: 'created', chat, message });
    return message;
  }

  /** Stores a new message and indexes its creation. */
  #store(messages: Map<string, SimMessage>, message: SimMessage): void {
    messages.set(message.id, message);
    this.messageIndex.record(message, Date.parse(message.createdDateTime), true);
  }

  /** Indexes an edit or deletion (lastModifiedDateTime already set). */
  #changed(message: SimMessage): void {
    this.messageIndex.record(message, Date.parse(message.lastModifiedDateTime), false);
  }

  #newMessage(input: PostMessageInput, location: SimMessage['location']): SimMessage {
    const now = this.#now();
    return {
      id: this.#messageId(),
      replyToId: input.replyToId ?? null,
      fromUserId: input.from,
      createdDateTime: now,
      lastModifiedDateTime: now,
      lastEditedDateTime: null,
      deletedDateTime: null,
      body: { contentType: input.contentType ?? 'html', content: input.content },
      mentions: (input.mentions ?? []).map((userId, i) => ({ id: i, mentionText: this.users.get(userId)?.displayName ?? userId, userId })),
      location,
      reactions: [],
      changeSeqs: [],
    };
  }

  postChatMessage(chatId: string, input: PostMessageInput): SimMessage {
    const chat = this.chat(chatId);
    const message = this.#newMessage(input, { kind: 'chat', chatId });
    this.#store(chat.messages, message);
    this.#emit({ kind: 'chatMessage', changeType: 'created', chat, message });
    return message;
  }

  #chatMessage(chatId: string, messageId: string): { chat: SimChat; message: SimMessage } {
    const chat = this.chat(chatId);
    const message = chat.messages.get(messageId);
    if (!message) throw notFound(`Message '${messageId}' was not found in chat '${chatId}'.`);
    return { chat, message };
  }

  editChatMessage(chatId: string, messageId: string, content: string): SimMessage {
    const { chat, message } = this.#chatMessage(chatId, messageId);
    message.body = { ...message.body, content };
    message.lastModifiedDateTime = message.lastEditedDateTime = this.#now();
    this.#changed(message);
    this.#emit({ kind: 'chatMessage', changeType: 'updated', chat, message });
    return message;
  }

  /** A reaction to a chat message: Graph notifies it as the message `updated` (lastModifiedDateTime moves). */
  reactToChatMessage(chatId: string, messageId: string, userId: string, reactionType = 'like'): SimMessage {
    const { chat, message } = this.#chatMessage(chatId, messageId);
    const now = this.#now();
    message.reactions.push({ reactionType, userId, createdDateTime: now });
    message.lastModifiedDateTime = now;
    this.#changed(message);
    this.#emit({ kind: 'chatMessage', changeType: 'updated', chat, message });
    return message;
  }

  deleteChatMessage(chatId: string, messageId: string): SimMessage {
    const { chat, message } = this.#chatMessage(chatId, messageId);
    message.lastModifiedDateTime = message.deletedDateTime = this.#now();
    this.#changed(message);
    this.#emit({ kind: 'chatMessage', changeType: 'deleted', chat, message });
    return message;
  }

  hideChat(chatId: string, userId: string): SimChat {
    const chat = this.chat(chatId);
    chat.hiddenFor.add(userId);
    this.#emit({ kind: 'chat', changeType: 'updated', chat, userSpecificFor: userId });
    return chat;
  }

  installApp(chatId: string, appId: string): SimChat {
    const chat = this.chat(chatId);
    chat.installedApps.add(appId);
    return chat;
  }

  createTeam(input: { displayName: string; channels?: readonly string[] }): SimTeam {
    const team: SimTeam = { id: randomUUID(), displayName: input.displayName, tenantId: this.tenantId, channels: new Map() };
    for (const name of input.channels ?? ['General']) {
      const channel: SimChannel = { id: newChannelId(), displayName: name, messages: new Map() };
      team.channels.set(channel.id, channel);
    }
    this.teams.set(team.id, team);
    return team;
  }

  channel(teamId: string, channelId: string): { team: SimTeam; channel: SimChannel } {
    const team = this.teams.get(teamId);
    const channel = team?.channels.get(channelId);
    if (!team || !channel) throw notFound(`Channel '${channelId}' of team '${teamId}' was not found.`);
    return { team, channel };
  }

  postChannelMessage(teamId: string, channelId: string, input: PostMessageInput): SimMessage {
    const { team, channel } = this.channel(teamId, channelId);
    if (input.replyToId && !channel.messages.has(input.replyToId)) throw notFound(`Message '${input.replyToId}' was not found.`);
    const message = this.#newMessage(input, { kind: 'channel', teamId, channelId });
    this.#store(channel.messages, message);
    this.#emit({ kind: 'channelMessage', changeType: 'created', team, channel, message });
    return message;
  }

  editChannelMessage(teamId: string, channelId: string, messageId: string, content: string): SimMessage {
    const { team, channel } = this.channel(teamId, channelId);
    const message = channel.messages.get(messageId);
    if (!message) throw notFound(`Message '${messageId}' was not found.`);
    message.body = { ...message.body, content };
    message.lastModifiedDateTime = message.lastEditedDateTime = this.#now();
    this.#changed(message);
    this.#emit({ kind: 'channelMessage', changeType: 'updated', team, channel, message });
    return message;
  }

  deleteChannelMessage(teamId: string, channelId: string, messageId: string): SimMessage {
    const { team, channel } = this.channel(teamId, channelId);
    const message = channel.messages.get(messageId);
    if (!message) throw notFound(`Message '${messageId}' was not found.`);
    message.lastModifiedDateTime = message.deletedDateTime = this.#now();
    this.#changed(message);
    this.#emit({ kind: 'channelMessage', changeType: 'deleted', team, channel, message });
    return message;
  }
}
