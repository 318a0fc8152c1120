import { badRequest } from './graph-error.js';
import { containerKeyOf, isCurrentAt, type IndexEntry } from './message-index.js';
import { parseFilter, parseTop, rejectOptions, timeWindow, type FilterClause, type TimeWindow } from './read-query.js';
import type { PagingTokens } from './skip-token.js';
import type { ChatMembershipSpan, TeamsDirectory } from './teams-directory.js';
import { chatJson, messageJson, type SimChannel, type SimChat, type SimMessage, type SimTeam } from './teams-model.js';

/**
 * Graph's Teams read APIs that a backfill uses: chat message listings with `$orderby`/`$filter`, the export
 * APIs (`getAllMessages`), channel message delta and a user's chats, with Graph's query rules, `$top` ≤ 50 and
 * paging by `@odata.nextLink`. Listings are taken from a snapshot (the index's sequence number when the first
 * page was asked for) carried in the skip token.
 */

/** Soft-deleted messages stay readable this long after deletion (export-teams-content: 21 days). */
export const DELETED_VISIBLE_MS = 21 * 24 * 3600_000;
/** Channel message delta reaches back 8 months. */
const DELTA_REACH_MONTHS = 8;

export interface ReadRequestContext {
  readonly teams: TeamsDirectory;
  readonly tokens: PagingTokens;
  /** Simulated now, ms. */
  readonly nowMs: number;
  /** `https://…/v1.0` or `…/beta`: where links point. */
  readonly versionBase: string;
  /** The path after the version, e.g. `/chats/19:…/messages`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly includeUnknownEnumMembers: boolean;
}

type Body = Record<string, unknown>;

interface PageState extends Record<string, unknown> {
  /** Snapshot sequence number. */
  readonly snap: number;
  /** Paging position (exclusive): a sequence number, or for chats an offset. */
  readonly cur: number;
}

const visible = (m: SimMessage, nowMs: number) => !m.deletedDateTime || nowMs - Date.parse(m.deletedDateTime) <= DELETED_VISIBLE_MS;

/** The query string that a skip token is bound to: every option but the token itself, in order. */
function scopeOf(ctx: ReadRequestContext, tokenName: string): string {
  const q = new URLSearchParams(ctx.query);
  q.delete(tokenName);
  q.sort();
  return `${ctx.path}?${q.toString()}`;
}

function linkWith(ctx: ReadRequestContext, name: string, token: string, keepQuery: boolean): string {
  const q = keepQuery ? new URLSearchParams(ctx.query) : new URLSearchParams();
  q.delete('$skiptoken');
  q.delete('$deltatoken');
  q.set(name, token);
  const path = ctx.path.split('/').map(encodeURIComponent).join('/');
  // Graph writes `$skiptoken`/`$deltatoken` with a literal dollar, as the query options are named.
  return `${ctx.versionBase}${path}?${q.toString().replace(/%24/g, '$')}`;
}

/** Reads `$skiptoken` (or starts a new snapshot) for a listing. */
function pageState(ctx: ReadRequestContext): PageState {
  const token = ctx.query.get('$skiptoken');
  if (token === null) return { snap: ctx.teams.messageIndex.lastSeq, cur: Infinity };
  return ctx.tokens.read<PageState>(token, scopeOf(ctx, '$skiptoken'), '$skiptoken');
}

/**
 * Takes up to `top` entries passing `keep`; when one more exists, a nextLink continues after the last one.
 * `positionOf` gives the paging position of an entry.
 */
function page(ctx: ReadRequestContext, state: PageState, entries: Iterable<IndexEntry>, keep: (e: IndexEntry) => boolean, top: number, context: string): Body {
  const taken: IndexEntry[] = [];
  let more = false;
  for (const e of entries) {
    if (!keep(e)) continue;
    if (taken.length === top) {
      more = true;
      break;
    }
    taken.push(e);
  }
  const body: Body = { '@odata.context': context };
  const last = taken[taken.length - 1];
  if (more && last) body['@odata.nextLink'] = linkWith(ctx, '$skiptoken', ctx.tokens.issue(scopeOf(ctx, '$skiptoken'), { snap: state.snap, cur: last.seq }), true);
  body.value = taken.map((e) => messageJson(e.message, ctx.teams.users, ctx.teams.tenantId, { includeUnknownEnumMembers: ctx.includeUnknownEnumMembers }));
  return body;
}

/**
 * `GET /chats/{id}/messages`: `$orderby` lastModifiedDateTime (default) or createdDateTime, descending only;
 * `$filter` lastModifiedDateTime gt/lt, createdDateTime lt, only with an `$orderby` of the same property
 * (Graph ignores it otherwise; the simulator answers 400, the stricter reading).
 */
export function listChatMessages(ctx: ReadRequestContext, chat: SimChat): Body {
  rejectOptions(ctx.query, ['$expand', '$select', '$search', '$skip', '$count'], 'this API');
  const top = parseTop(ctx.query);
  const orderby = ctx.query.get('$orderby');
  let property = 'lastModifiedDateTime';
  if (orderby !== null) {
    const m = /^\s*(lastModifiedDateTime|createdDateTime)(?:\s+(asc|desc))?\s*$/i.exec(orderby);
    if (!m) throw badRequest(`The $orderby '${orderby}' is not supported: only lastModifiedDateTime or createdDateTime, descending.`, 'BadRequest');
    if ((m[2] ?? 'asc').toLowerCase() !== 'desc') throw badRequest('The ascending order is not supported: $orderby must be descending.', 'BadRequest');
    property = m[1] === 'createdDateTime' ? 'createdDateTime' : 'lastModifiedDateTime';
  }
  const clauses = parseFilter(ctx.query);
  let window: TimeWindow = {};
  if (clauses.length > 0) {
    const filtered = clauses[0]?.property;
    if (clauses.some((c) => c.property !== filtered) || (filtered !== 'lastModifiedDateTime' && filtered !== 'createdDateTime')) {
      throw badRequest('$filter supports lastModifiedDateTime or createdDateTime, one property at a time.', 'BadRequest');
    }
    if (orderby === null || filtered !== property) {
      throw badRequest(`$filter on '${filtered}' needs $orderby=${filtered} desc (Graph applies a filter only with an $orderby on the same property).`, 'BadRequest');
    }
    window = timeWindow(clauses, property === 'lastModifiedDateTime' ? { gt: true, lt: true } : { lt: true });
  }
  const state = pageState(ctx);
  const index = ctx.teams.messageIndex;
  const range = { snapshotSeq: state.snap, beforeSeq: state.cur, ...window };
  const byCreation = property === 'createdDateTime';
  const entries = byCreation ? index.createdIn(chat.id).descending(range) : index.changesIn(chat.id).descending(range);
  const keep = (e: IndexEntry) => (byCreation || isCurrentAt(e, state.snap)) && visible(e.message, ctx.nowMs);
  return page(ctx, state, entries, keep, top, `${ctx.versionBase}/$metadata#chats('${encodeURIComponent(chat.id)}')/messages`);
}

/** The export APIs' `$filter`: `lastModifiedDateTime gt A and lastModifiedDateTime lt B` [and `messageType eq|ne '…'`]. */
function exportFilter(ctx: ReadRequestContext): { window: TimeWindow; messageType?: (m: SimMessage) => boolean } {
  const invalid = () => badRequest('Invalid $filter query.', 'BadRequest');
  const clauses = parseFilter(ctx.query);
  const dates = clauses.filter((c) => c.property === 'lastModifiedDateTime');
  const types = clauses.filter((c) => c.property === 'messageType');
  if (dates.length + types.length !== clauses.length || types.length > 1) throw invalid();
  const window = timeWindow(dates, { gt: true, lt: true });
  // Graph rejected a lone `gt` (microsoftgraph/microsoft-graph-docs-contrib#1764): a window needs both ends.
  if (dates.length > 0 && (window.gtMs === undefined || window.ltMs === undefined)) throw invalid();
  const [type] = types;
  if (!type) return { window };
  if ((type.operator !== 'eq' && type.operator !== 'ne') || (type.value !== 'systemEventMessage' && type.value !== 'message')) throw invalid();
  const isType = (m: SimMessage) => (type.value === 'systemEventMessage') === !!m.event;
  return { window, messageType: type.operator === 'eq' ? isType : (m) => !isType(m) };
}

function listExport(ctx: ReadRequestContext, inScope: (m: SimMessage, window: TimeWindow) => boolean, context: string): Body {
  rejectOptions(ctx.query, ['$orderby', '$expand', '$select', '$search', '$skip', '$count'], 'getAllMessages');
  const model = ctx.query.get('model');
  if (model !== null && model !== 'A' && model !== 'B') throw badRequest(`Unknown model '${model}': A or B.`, 'BadRequest');
  const top = parseTop(ctx.query);
  const { window, messageType } = exportFilter(ctx);
  const state = pageState(ctx);
  const entries = ctx.teams.messageIndex.changes.descending({ snapshotSeq: state.snap, beforeSeq: state.cur, ...window });
  const keep = (e: IndexEntry) => isCurrentAt(e, state.snap) && inScope(e.message, window) && (!messageType || messageType(e.message)) && visible(e.message, ctx.nowMs);
  return page(ctx, state, entries, keep, top, context);
}

/**
 * `GET /users/{id}/chats/getAllMessages`: messages of every chat the user is a member of, or was until a time
 * after the window's start (a simplification: the whole chat's messages in the window, not only those of the
 * user's membership).
 */
export function userChatsGetAllMessages(ctx: ReadRequestContext, userId: string): Body {
  const spans = ctx.teams.membershipsByUser.get(userId) ?? new Map<string, ChatMembershipSpan>();
  return listExport(
    ctx,
    (m, window) => {
      if (m.location.kind !== 'chat') return false;
      const span = spans.get(m.location.chatId);
      return !!span && (span.leftAtMs === null || span.leftAtMs > (window.gtMs ?? -Infinity));
    },
    `${ctx.versionBase}/$metadata#Collection(chatMessage)`,
  );
}

/** `GET /teams/{t}/channels/getAllMessages`: every channel's messages and replies. */
export function teamChannelsGetAllMessages(ctx: ReadRequestContext, team: SimTeam): Body {
  return listExport(ctx, (m) => m.location.kind === 'channel' && m.location.teamId === team.id, `${ctx.versionBase}/$metadata#Collection(chatMessage)`);
}

interface DeltaState extends PageState {
  /** Changes after this sequence number belong to the round. */
  readonly lo: number;
  readonly gt: number | null;
  readonly top: number;
  readonly replies: boolean;
}

/**
 * `GET /teams/{t}/channels/{c}/messages/delta[?$filter=lastModifiedDateTime gt X]`: the root messages of
 * reply chains created or changed after X (or all, without a filter), `$top` ≤ 50, `$expand=replies`; pages
 * by `$skiptoken` and ends with a `@odata.deltaLink` whose `$deltatoken` returns the chains changed since.
 * A chain may come back on more than one page of a round, as Graph's delta allows.
 */
export function channelMessagesDelta(ctx: ReadRequestContext, team: SimTeam, channel: SimChannel): Body {
  const scope = ctx.path;
  const skip = ctx.query.get('$skiptoken');
  const delta = ctx.query.get('$deltatoken');
  let state: DeltaState;
  if (skip !== null) state = ctx.tokens.read<DeltaState>(skip, scope, '$skiptoken');
  else {
    let lo = 0;
    let gt: number | null = null;
    let top: number;
    let replies: boolean;
    if (delta !== null) ({ lo, top, replies } = ctx.tokens.read<DeltaState>(delta, scope, '$deltatoken'));
    else {
      rejectOptions(ctx.query, ['$orderby', '$select', '$search', '$skip', '$count'], 'messages/delta');
      const expand = ctx.query.get('$expand');
      if (expand !== null && expand !== 'replies') throw badRequest(`The $expand '${expand}' is not supported: only replies.`, 'BadRequest');
      replies = expand === 'replies';
      top = parseTop(ctx.query);
      const clauses: FilterClause[] = parseFilter(ctx.query);
      if (clauses.some((c) => c.property !== 'lastModifiedDateTime') || clauses.length > 1) throw badRequest('Invalid filter clause', 'BadRequest');
      gt = timeWindow(clauses, { gt: true }).gtMs ?? null;
      const reach = new Date(ctx.nowMs);
      reach.setUTCMonth(reach.getUTCMonth() - DELTA_REACH_MONTHS);
      if (gt !== null && gt < reach.getTime()) throw badRequest(`lastModifiedDateTime must be within the last ${DELTA_REACH_MONTHS} months.`, 'BadRequest');
    }
    state = { snap: ctx.teams.messageIndex.lastSeq, cur: lo, lo, gt, top, replies };
  }
  const entries = ctx.teams.messageIndex.changesIn(containerKeyOf({ kind: 'channel', teamId: team.id, channelId: channel.id })).ascending({
    snapshotSeq: state.snap,
    afterSeq: state.cur,
    ...(state.gt !== null ? { gtMs: state.gt } : {}),
  });
  const roots = new Map<string, SimMessage>();
  let lastSeq = state.cur;
  let more = false;
  for (const e of entries) {
    if (!isCurrentAt(e, state.snap)) continue;
    const root = e.message.replyToId ? channel.messages.get(e.message.replyToId) : e.message;
    if (!root || !visible(root, ctx.nowMs)) continue;
    if (!roots.has(root.id) && roots.size === state.top) {
      more = true;
      break;
    }
    roots.set(root.id, root);
    lastSeq = e.seq;
  }
  const json = (m: SimMessage) => messageJson(m, ctx.teams.users, ctx.teams.tenantId, { includeUnknownEnumMembers: ctx.includeUnknownEnumMembers });
  const value = [...roots.values()].map((root) => ({
    ...json(root),
    ...(state.replies ? { replies: [...channel.messages.values()].filter((r) => r.replyToId === root.id && visible(r, ctx.nowMs)).map(json) } : {}),
  }));
  const body: Body = { '@odata.context': `${ctx.versionBase}/$metadata#Collection(chatMessage)` };
  if (more) body['@odata.nextLink'] = linkWith(ctx, '$skiptoken', ctx.tokens.issue(scope, { ...state, cur: lastSeq }), false);
  else body['@odata.deltaLink'] = linkWith(ctx, '$deltatoken', ctx.tokens.issue(scope, { snap: state.snap, cur: state.snap, lo: state.snap, gt: null, top: state.top, replies: state.replies }), false);
  body.value = value;
  return body;
}

/**
 * `GET /users/{id}/chats`: the chats the user is a member of, in creation order, `$top` ≤ 50, paging by
 * `$skiptoken`. `$filter` and `$orderby` are answered 400 (Graph documents neither for `lastUpdatedDateTime`).
 */
export function listUserChats(ctx: ReadRequestContext, userId: string): Body {
  rejectOptions(ctx.query, ['$filter', '$orderby', '$expand', '$search', '$skip', '$count'], 'the simulated chat list');
  const top = parseTop(ctx.query);
  const token = ctx.query.get('$skiptoken');
  const offset = token === null ? 0 : ctx.tokens.read<PageState>(token, scopeOf(ctx, '$skiptoken'), '$skiptoken').cur;
  const spans = ctx.teams.membershipsByUser.get(userId) ?? new Map<string, ChatMembershipSpan>();
  const chats: SimChat[] = [];
  let position = 0;
  let next: number | undefined;
  for (const chat of ctx.teams.chats.values()) {
    position++;
    if (position <= offset || spans.get(chat.id)?.leftAtMs !== null) continue;
    if (chats.length === top) {
      next = position - 1;
      break;
    }
    chats.push(chat);
  }
  const body: Body = { '@odata.context': `${ctx.versionBase}/$metadata#users('${userId}')/chats` };
  if (next !== undefined) body['@odata.nextLink'] = linkWith(ctx, '$skiptoken', ctx.tokens.issue(scopeOf(ctx, '$skiptoken'), { snap: 0, cur: next }), true);
  body.value = chats.map((c) => chatJson(c));
  return body;
}
