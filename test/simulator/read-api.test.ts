import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { graphClient, inMinutes, type GraphAnswer } from '../helpers/graph-client.js';
import { startWebhookSink } from '../helpers/webhook-sink.js';
import { ALICE, BOB, CAROL } from '../helpers/users.js';
import { nonEmpty } from '../helpers/non-empty.js';

let sim: GraphSimulator;
let graph: ReturnType<typeof graphClient>;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

beforeEach(async () => {
  // Throttling off except in the tests of it: these tests are about query rules, not rates.
  sim = await startGraphSimulator({ reads: { enabled: false } });
  graph = graphClient(sim.baseUrl);
  for (const [id, displayName] of [
    [ALICE, 'Alice'],
    [BOB, 'Bob'],
    [CAROL, 'Carol'],
  ] as const)
    sim.teams.addUser({ id, displayName });
});
afterEach(async () => {
  await sim.close();
});

const q = (params: Record<string, string | number>) => '?' + new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
const iso = (ms: number) => new Date(ms).toISOString();
const advance = (ms: number) => sim.clock.advance(ms);
/** A point in simulated time a minute after everything so far and a minute before anything next. */
const mark = () => {
  advance(MINUTE);
  const at = sim.clock.now();
  advance(MINUTE);
  return at;
};

/** GET with optional headers, from a path or an absolute nextLink/deltaLink. */
async function get(pathOrUrl: string, headers: Record<string, string> = {}): Promise<GraphAnswer> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${sim.baseUrl}${pathOrUrl}`;
  const res = await fetch(url, { headers: { authorization: 'Bearer test-token', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Follows nextLinks to the end; every page must be 200. */
async function collect(first: string, headers: Record<string, string> = {}): Promise<{ items: Record<string, any>[]; pages: GraphAnswer[] }> {
  const items: Record<string, any>[] = [];
  const pages: GraphAnswer[] = [];
  let next: string | undefined = first;
  while (next) {
    const page = await get(next, headers);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    pages.push(page);
    items.push(...page.body.value);
    next = page.body['@odata.nextLink'];
  }
  return { items, pages };
}

function expectGraphError(answer: GraphAnswer, status: number, message?: RegExp) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String), innerError: { 'request-id': expect.any(String) } });
  if (message) expect(answer.body.error.message).toMatch(message);
}

describe('GET /chats/{id}/messages: query rules', () => {
  it("accepts $top 1..50 and answers 400 past 50 with Graph's message", async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    for (let i = 0; i < 3; i++) sim.teams.postChatMessage(chat.id, { from: ALICE, content: `m${i}` });
    const one = await get(`/v1.0/chats/${chat.id}/messages${q({ $top: 1 })}`);
    expect(one.status).toBe(200);
    expect(one.body.value).toHaveLength(1);
    expect(one.body['@odata.nextLink']).toBeDefined();
    expect((await get(`/beta/chats/${chat.id}/messages${q({ $top: 50 })}`)).body.value).toHaveLength(3);
    expectGraphError(await get(`/v1.0/chats/${chat.id}/messages${q({ $top: 51 })}`), 400, /The limit of '50' for Top query has been exceeded. The value from the incoming request is '51'/);
    expectGraphError(await get(`/v1.0/chats/${chat.id}/messages${q({ $top: 0 })}`), 400);
  });

  it('answers 400 for a filter without the same $orderby, ascending order, or operators Graph refuses', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const t = iso(sim.clock.now());
    const base = `/v1.0/chats/${chat.id}/messages`;
    expectGraphError(await get(`${base}${q({ $filter: `lastModifiedDateTime gt ${t}` })}`), 400, /\$orderby/);
    expectGraphError(await get(`${base}${q({ $orderby: 'createdDateTime desc', $filter: `lastModifiedDateTime gt ${t}` })}`), 400, /\$orderby/);
    expectGraphError(await get(`${base}${q({ $orderby: 'lastModifiedDateTime asc' })}`), 400, /ascending/);
    expectGraphError(await get(`${base}${q({ $orderby: 'lastModifiedDateTime' })}`), 400, /ascending/);
    expectGraphError(await get(`${base}${q({ $orderby: 'id desc' })}`), 400);
    expectGraphError(
      await get(`${base}${q({ $orderby: 'lastModifiedDateTime desc', $filter: `lastModifiedDateTime le ${t}` })}`),
      400,
      /The entity property 'lastModifiedDateTime' and operationKind 'LessThanOrEqual' is not allowed in \$filter query/,
    );
    expectGraphError(await get(`${base}${q({ $orderby: 'createdDateTime desc', $filter: `createdDateTime gt ${t}` })}`), 400, /operationKind 'GreaterThan'/);
    expectGraphError(await get(`${base}${q({ $orderby: 'lastModifiedDateTime desc', $filter: `lastModifiedDateTime gt '${t}'` })}`), 400, /Invalid filter clause/);
    expect((await get(`${base}${q({ $orderby: 'lastModifiedDateTime desc', $filter: `lastModifiedDateTime gt ${t} and lastModifiedDateTime lt ${t}` })}`)).status).toBe(200);
    expect((await get(`${base}${q({ $orderby: 'createdDateTime desc', $filter: `createdDateTime lt ${t}` })}`)).status).toBe(200);
  });

  it('filters a lastModifiedDateTime window newest first, and createdDateTime lt by creation, on the simulated clock', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const a = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'a' });
    advance(10 * MINUTE);
    const b = sim.teams.postChatMessage(chat.id, { from: BOB, content: 'b' });
    advance(10 * MINUTE);
    const windowStart = sim.clock.now();
    advance(MINUTE);
    const c = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'c' });
    advance(MINUTE);
    sim.teams.editChatMessage(chat.id, a.id, 'a, edited');
    advance(MINUTE);
    const windowEnd = sim.clock.now();
    advance(MINUTE);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'later' });

    const window = await get(
      `/v1.0/chats/${chat.id}/messages${q({ $orderby: 'lastModifiedDateTime desc', $filter: `lastModifiedDateTime gt ${iso(windowStart)} and lastModifiedDateTime lt ${iso(windowEnd)}` })}`,
    );
    expect(window.body.value.map((m: { id: string }) => m.id)).toEqual([a.id, c.id]);
    expect(Date.parse(window.body.value[0].lastModifiedDateTime)).toBeGreaterThan(windowStart);
    expect(window.body.value[0].createdDateTime).toBe(a.createdDateTime);

    const created = await get(`/v1.0/chats/${chat.id}/messages${q({ $orderby: 'createdDateTime desc', $filter: `createdDateTime lt ${iso(windowStart)}` })}`);
    expect(created.body.value.map((m: { id: string }) => m.id)).toEqual([b.id, a.id]);
  });

  it('pages through 120 messages by absolute nextLinks, each exactly once, even when one changes mid-way', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const posted = Array.from({ length: 120 }, (_, i) => sim.teams.postChatMessage(chat.id, { from: ALICE, content: `n${i}` }).id);
    const first = await get(`/v1.0/chats/${chat.id}/messages${q({ $top: 50, $orderby: 'lastModifiedDateTime desc' })}`);
    expect(first.body.value).toHaveLength(50);
    const nextLink: string = first.body['@odata.nextLink'];
    expect(nextLink.startsWith(`${sim.baseUrl}/v1.0/chats/`)).toBe(true);
    expect(new URL(nextLink).searchParams.get('$skiptoken')).toBeTruthy();
    // A message not yet returned is edited while the client pages: it must not be skipped.
    sim.teams.editChatMessage(chat.id, posted[5] as string, 'edited while paging');
    const rest = await collect(nextLink);
    const ids = [...first.body.value, ...rest.items].map((m: { id: string }) => m.id);
    expect(ids).toHaveLength(120);
    expect(new Set(ids)).toEqual(new Set(posted));
    expect(rest.pages.map((p) => p.body.value.length)).toEqual([50, 20]);
    expect(rest.pages.at(-1)?.body['@odata.nextLink']).toBeUndefined();
  });

  it('answers 400 for a garbled skip token, one used on another query, and one of an earlier simulator', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    for (let i = 0; i < 3; i++) sim.teams.postChatMessage(chat.id, { from: ALICE, content: `m${i}` });
    const nextLink: string = (await get(`/v1.0/chats/${chat.id}/messages${q({ $top: 1 })}`)).body['@odata.nextLink'];
    expect((await get(nextLink)).status).toBe(200);
    const url = new URL(nextLink);
    const token = url.searchParams.get('$skiptoken') ?? '';
    url.searchParams.set('$skiptoken', token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA'));
    expectGraphError(await get(url.toString()), 400, /skiptoken/);
    const otherQuery = new URL(nextLink);
    otherQuery.searchParams.set('$top', '2');
    expectGraphError(await get(otherQuery.toString()), 400, /skiptoken/);
    // The same request to a simulator started later (another run): its token is not valid there.
    const exportLink: string = (await get(`/v1.0/users/${ALICE}/chats/getAllMessages${q({ $top: 1 })}`)).body['@odata.nextLink'];
    const other = await startGraphSimulator({ reads: { enabled: false } });
    try {
      other.teams.addUser({ id: ALICE, displayName: 'Alice' });
      const res = await fetch(exportLink.replace(sim.baseUrl, other.baseUrl), { headers: { authorization: 'Bearer t' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/skiptoken/);
    } finally {
      await other.close();
    }
  });
});

describe('deleted messages and the membership history', () => {
  it('lists a soft-deleted message with deletedDateTime and an empty body for 21 days of simulated time', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const keep = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'stays' });
    const gone = sim.teams.postChatMessage(chat.id, { from: BOB, content: 'secret' });
    advance(5 * MINUTE);
    const before = sim.clock.now();
    const deletedAt = sim.teams.deleteChatMessage(chat.id, gone.id).deletedDateTime as string;
    expect(Date.parse(deletedAt)).toBeGreaterThanOrEqual(before);
    const listed = (await get(`/v1.0/chats/${chat.id}/messages`)).body.value as Record<string, any>[];
    const deleted = listed.find((m) => m.id === gone.id);
    expect(deleted).toMatchObject({ deletedDateTime: deletedAt, lastModifiedDateTime: deletedAt, body: { content: '' } });
    expect(JSON.stringify(deleted)).not.toContain('secret');
    expect((await get(`/v1.0/chats/${chat.id}/messages/${gone.id}`)).body.deletedDateTime).toBeTruthy();

    advance(21 * DAY - MINUTE);
    expect((await get(`/v1.0/chats/${chat.id}/messages`)).body.value.map((m: { id: string }) => m.id)).toContain(gone.id);
    advance(2 * MINUTE);
    expect((await get(`/v1.0/chats/${chat.id}/messages`)).body.value.map((m: { id: string }) => m.id)).toEqual([keep.id]);
    expect((await get(`/v1.0/chats/${chat.id}/messages/${gone.id}`)).status).toBe(404);
  });

  it('writes membersAdded/membersDeleted system event messages and bumps lastUpdatedDateTime on membership changes', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB], chatType: 'group', topic: 'Plans' });
    const created = chat.lastUpdatedDateTime;
    advance(MINUTE);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'hi' });
    expect((await get(`/v1.0/chats/${chat.id}`)).body.lastUpdatedDateTime).toBe(created);
    advance(MINUTE);
    const addFrom = sim.clock.now();
    const added = await graph.post(`/_simulator/chats/${encodeURIComponent(chat.id)}/members`, { userId: CAROL, initiatorId: ALICE });
    expect(added.status).toBe(201);
    const addedAt = (await get(`/v1.0/chats/${chat.id}`)).body.lastUpdatedDateTime as string;
    expect(Date.parse(addedAt)).toBeGreaterThanOrEqual(addFrom);
    advance(MINUTE);
    const removeFrom = sim.clock.now();
    expect((await graph.delete(`/_simulator/chats/${encodeURIComponent(chat.id)}/members/${CAROL}`)).status).toBe(200);
    const removedAt = (await get(`/v1.0/users/${ALICE}/chats`)).body.value.find((c: { id: string }) => c.id === chat.id).lastUpdatedDateTime as string;
    expect(Date.parse(removedAt)).toBeGreaterThanOrEqual(removeFrom);
    advance(MINUTE);
    const renamed = sim.teams.renameChat(chat.id, 'New plans').lastUpdatedDateTime;
    expect(Date.parse(renamed)).toBeGreaterThan(Date.parse(removedAt));
    expect((await get(`/v1.0/chats/${chat.id}`)).body.lastUpdatedDateTime).toBe(renamed);

    const prefer = { prefer: 'include-unknown-enum-members' };
    const events = ((await get(`/v1.0/chats/${chat.id}/messages`, prefer)).body.value as Record<string, any>[]).filter((m) => m.messageType === 'systemEventMessage');
    expect(events.map((e) => e.eventDetail['@odata.type'])).toEqual(['#microsoft.graph.membersDeletedEventMessageDetail', '#microsoft.graph.membersAddedEventMessageDetail']);
    const [removed, add] = events;
    expect(add).toMatchObject({
      createdDateTime: addedAt,
      from: null,
      eventDetail: { members: [{ id: CAROL, displayName: 'Carol' }], initiator: { user: { id: ALICE, displayName: 'Alice' } } },
    });
    expect(removed).toMatchObject({ createdDateTime: removedAt, eventDetail: { members: [{ id: CAROL, displayName: 'Carol' }], initiator: { user: { id: CAROL } } } });
    // The properties of Microsoft's "Members added" and "Members deleted" examples (learn.microsoft.com/graph/system-messages),
    // which a backfill reads membership history from.
    const documented = [
      'id',
      'replyToId',
      'etag',
      'messageType',
      'createdDateTime',
      'lastModifiedDateTime',
      'lastEditedDateTime',
      'deletedDateTime',
      'subject',
      'summary',
      'chatId',
      'importance',
      'locale',
      'webUrl',
      'policyViolation',
      'from',
      'body',
      'channelIdentity',
      'onBehalfOf',
      'attachments',
      'mentions',
      'reactions',
      'eventDetail',
    ];
    for (const e of [add, removed]) {
      expect(Object.keys(e!).sort()).toEqual([...documented].sort());
      expect(e).toMatchObject({ chatId: chat.id, body: { contentType: 'html', content: '<systemEventMessage/>' }, etag: String(Date.parse(e!.createdDateTime)) });
      expect(Object.keys(e!.eventDetail.initiator).sort()).toEqual(['application', 'device', 'user']);
      expect(e!.eventDetail.members[0]).toMatchObject({ id: CAROL, userIdentityType: 'aadUser' });
    }
    expect(Object.keys(add!.eventDetail).sort()).toEqual(['@odata.type', 'initiator', 'members', 'visibleHistoryStartDateTime']);
    expect(Object.keys(removed!.eventDetail).sort()).toEqual(['@odata.type', 'initiator', 'members']);
    // Without the Prefer header Graph writes the evolvable enum's sentinel.
    const plain = (await get(`/v1.0/chats/${chat.id}/messages`)).body.value as Record<string, any>[];
    expect(plain.filter((m) => m.messageType === 'unknownFutureValue')).toHaveLength(2);
    expect(plain.some((m) => m.messageType === 'systemEventMessage')).toBe(false);
  });

  it('keeps a membership id per user and chat: a re-added member has the same id, as Graph derives it', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL] });
    const before = (await get(`/v1.0/chats/${chat.id}/members`)).body.value.find((m: { userId: string }) => m.userId === CAROL).id;
    sim.teams.removeMember(chat.id, CAROL);
    expect((await get(`/v1.0/chats/${chat.id}/members`)).body.value.map((m: { userId: string }) => m.userId)).toEqual([ALICE, BOB]);
    sim.teams.addMember(chat.id, CAROL);
    expect((await get(`/v1.0/chats/${chat.id}/members`)).body.value.find((m: { userId: string }) => m.userId === CAROL).id).toBe(before);
  });
});

describe('export APIs and channel delta', () => {
  it('getAllMessages returns the window of every chat the user is or was in, with messageType filters and paging', async () => {
    const ab = sim.teams.createChat({ members: [ALICE, BOB] });
    const bc = sim.teams.createChat({ members: [BOB, CAROL] });
    const left = sim.teams.createChat({ members: [ALICE, BOB, CAROL], chatType: 'group' });
    const leftEarly = sim.teams.createChat({ members: [ALICE, BOB, CAROL], chatType: 'group' });
    sim.teams.postChatMessage(ab.id, { from: ALICE, content: 'before' });
    sim.teams.removeMember(leftEarly.id, ALICE);
    const start = mark();
    const inAb = sim.teams.postChatMessage(ab.id, { from: BOB, content: 'in ab' });
    sim.teams.postChatMessage(bc.id, { from: BOB, content: 'not alice' });
    const inLeft = sim.teams.postChatMessage(left.id, { from: CAROL, content: 'in left' });
    sim.teams.removeMember(left.id, ALICE, { initiator: CAROL });
    sim.teams.postChatMessage(leftEarly.id, { from: BOB, content: 'after alice left' });
    const extra = Array.from({ length: 4 }, (_, i) => sim.teams.postChatMessage(ab.id, { from: ALICE, content: `x${i}` }).id);
    const end = mark();
    sim.teams.postChatMessage(ab.id, { from: ALICE, content: 'after' });

    const filter = `lastModifiedDateTime gt ${iso(start)} and lastModifiedDateTime lt ${iso(end)}`;
    const path = `/v1.0/users/${ALICE}/chats/getAllMessages`;
    const all = await collect(`${path}${q({ $filter: filter, $top: 2, model: 'B' })}`, { prefer: 'include-unknown-enum-members' });
    expect(all.pages.length).toBe(4);
    const ids = all.items.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    const system = all.items.filter((m) => m.messageType === 'systemEventMessage');
    expect(system).toHaveLength(1);
    expect(system[0]).toMatchObject({ chatId: left.id, eventDetail: { '@odata.type': '#microsoft.graph.membersDeletedEventMessageDetail' } });
    expect(new Set(all.items.filter((m) => m.messageType === 'message').map((m) => m.id))).toEqual(new Set([inAb.id, inLeft.id, ...extra]));

    const onlySystem = await get(`${path}${q({ $filter: `${filter} and messageType eq 'systemEventMessage'` })}`);
    expect(onlySystem.body.value.map((m: { id: string }) => m.id)).toEqual([system[0]?.id]);
    const noSystem = await collect(`${path}${q({ $filter: `${filter} and messageType ne 'systemEventMessage'` })}`);
    expect(noSystem.items).toHaveLength(6);

    expectGraphError(await get(`${path}${q({ $filter: `lastModifiedDateTime gt ${iso(start)}` })}`), 400, /Invalid \$filter query/);
    expectGraphError(await get(`${path}${q({ $filter: `createdDateTime gt ${iso(start)} and createdDateTime lt ${iso(end)}` })}`), 400);
    expectGraphError(await get(`${path}${q({ $top: 51 })}`), 400, /Top query/);
    expect((await get(`/v1.0/users/00000000-0000-4000-8000-00000000dead/chats/getAllMessages`)).status).toBe(404);
  });

  it("teams/{t}/channels/getAllMessages returns every channel's messages and replies in the window", async () => {
    const team = sim.teams.createTeam({ displayName: 'Ops', channels: ['General', 'Alerts'] });
    const [general, alerts] = [...team.channels.keys()] as [string, string];
    const old = sim.teams.postChannelMessage(team.id, general, { from: ALICE, content: 'old' });
    const start = mark();
    const reply = sim.teams.postChannelMessage(team.id, general, { from: BOB, content: 'reply', replyToId: old.id });
    const alert = sim.teams.postChannelMessage(team.id, alerts, { from: CAROL, content: 'alert' });
    advance(MINUTE);
    const end = sim.clock.now();
    const { items } = await collect(`/v1.0/teams/${team.id}/channels/getAllMessages${q({ $filter: `lastModifiedDateTime gt ${iso(start)} and lastModifiedDateTime lt ${iso(end)}` })}`);
    expect(items.map((m) => m.id).sort()).toEqual([reply.id, alert.id].sort());
    expect(items.find((m) => m.id === reply.id)).toMatchObject({ replyToId: old.id, channelIdentity: { teamId: team.id, channelId: general } });
  });

  it('channel messages/delta returns reply chains changed after X, pages, and ends with a deltaLink that returns later changes', async () => {
    const team = sim.teams.createTeam({ displayName: 'Ops' });
    const [channelId] = [...team.channels.keys()] as [string];
    const r1 = sim.teams.postChannelMessage(team.id, channelId, { from: ALICE, content: 'r1' });
    const r2 = sim.teams.postChannelMessage(team.id, channelId, { from: ALICE, content: 'r2' });
    const x = mark();
    const reply = sim.teams.postChannelMessage(team.id, channelId, { from: BOB, content: 'reply to r1', replyToId: r1.id });
    const r3 = sim.teams.postChannelMessage(team.id, channelId, { from: CAROL, content: 'r3' });

    const path = `/v1.0/teams/${team.id}/channels/${encodeURIComponent(channelId)}/messages/delta`;
    const round = await collect(`${path}${q({ $filter: `lastModifiedDateTime gt ${iso(x)}`, $top: 1, $expand: 'replies' })}`);
    expect(round.items.map((m) => m.id)).toEqual([r1.id, r3.id]);
    expect(round.items[0]?.replies.map((m: { id: string }) => m.id)).toEqual([reply.id]);
    expect(round.pages[0]?.body['@odata.nextLink']).toMatch(/\$skiptoken=/);
    const deltaLink: string = round.pages.at(-1)?.body['@odata.deltaLink'];
    expect(deltaLink.startsWith(sim.baseUrl)).toBe(true);
    expect(deltaLink).toMatch(/\$deltatoken=/);

    const quiet = await get(deltaLink);
    expect(quiet.body.value).toEqual([]);
    sim.teams.editChannelMessage(team.id, channelId, r2.id, 'r2 edited');
    const next = await collect(deltaLink);
    expect(next.items.map((m) => m.id)).toEqual([r2.id]);
    expect(next.items[0]?.body.content).toBe('r2 edited');

    expectGraphError(await get(`${path}${q({ $filter: `lastModifiedDateTime lt ${iso(x)}` })}`), 400);
    expectGraphError(await get(`${path}${q({ $filter: `lastModifiedDateTime gt ${iso(x - 300 * DAY)}` })}`), 400, /8 months/);
    expectGraphError(await get(`${path}${q({ $top: 51 })}`), 400, /Top query/);
  });

  it("/users/{id}/chats pages by $top ≤ 50 and lists only the user's chats", async () => {
    const mine = Array.from({ length: 55 }, () => sim.teams.createChat({ members: [ALICE, BOB] }).id);
    sim.teams.createChat({ members: [BOB, CAROL] });
    const { items, pages } = await collect(`/v1.0/users/${ALICE}/chats${q({ $top: 50 })}`);
    expect(pages.map((p) => p.body.value.length)).toEqual([50, 5]);
    expect(items.map((c) => c.id)).toEqual(mine);
    expect(items[0]).toMatchObject({ lastUpdatedDateTime: expect.any(String), chatType: 'oneOnOne' });
    expectGraphError(await get(`/v1.0/users/${ALICE}/chats${q({ $top: 51 })}`), 400, /Top query/);
    expectGraphError(await get(`/v1.0/users/${ALICE}/chats${q({ $filter: `lastUpdatedDateTime gt ${iso(sim.clock.now())}` })}`), 400);
  });
});

describe('throttling of message GETs', () => {
  it('answers 429 with Retry-After past the per-chat rate, leaves other chats alone, and serves again after the wait', async () => {
    // A long window, so that the requests below fall within one window however slow the machine is.
    const patched = await graph.patch('/_simulator/reads', { enabled: true, windowMs: 1500, perChatOrChannel: 1 });
    expect(patched.body).toMatchObject({ enabled: true, windowMs: 1500, perChatOrChannel: 1, perTenantMessageGets: 20 });
    const busy = sim.teams.createChat({ members: [ALICE, BOB] });
    const other = sim.teams.createChat({ members: [ALICE, CAROL] });
    const answers = await Promise.all([1, 2, 3].map(() => get(`/v1.0/chats/${busy.id}/messages`)));
    const throttled = answers.find((a) => a.status === 429);
    expect(throttled, 'three concurrent GETs of one chat within one window').toBeDefined();
    expectGraphError(throttled as GraphAnswer, 429);
    expect(throttled?.body.error.code).toBe('TooManyRequests');
    const retryAfter = Number(throttled?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect((await get(`/v1.0/chats/${other.id}/messages`)).status).toBe(200);

    let res = throttled as GraphAnswer;
    for (let i = 0; i < 10 && res.status === 429; i++) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * sim.reads.options.windowMs));
      res = await get(`/v1.0/chats/${busy.id}/messages`);
    }
    expect(res.status).toBe(200);
    expect(sim.reads.maxObservedRate((e) => e.container === busy.id)).toBe(1);
    const log = (await graph.get('/_simulator/reads')).body.log as { container: string; status: number; kind: string }[];
    expect(log.filter((e) => e.container === busy.id && e.status === 429).length).toBeGreaterThanOrEqual(1);
    expect(nonEmpty(log).every((e) => e.kind === 'messages')).toBe(true);
  });

  it('limits message GETs and getAllMessages per tenant', async () => {
    sim.reads.options = { ...sim.reads.options, enabled: true, windowMs: 60_000, perChatOrChannel: 100, perTenantMessageGets: 3, perTenantGetAllMessages: 2 };
    const chats = Array.from({ length: 4 }, () => sim.teams.createChat({ members: [ALICE, BOB] }));
    const statuses = [];
    for (const chat of chats) statuses.push((await get(`/v1.0/chats/${chat.id}/messages`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const exports = [];
    for (let i = 0; i < 3; i++) exports.push((await get(`/v1.0/users/${ALICE}/chats/getAllMessages`)).status);
    expect(exports).toEqual([200, 200, 429]);
    expect(sim.reads.maxObservedRate((e) => e.kind === 'messages')).toBe(3);
    expect((await graph.delete('/_simulator/reads/log')).status).toBe(204);
    expect(sim.reads.log).toHaveLength(0);
    expect((await get(`/v1.0/chats/${chats[0]?.id}/messages`)).status).toBe(200);
  });
});

describe('delivery drop switch', () => {
  it('drops every notification while dropAll is on, logging each with dropped: true, and delivers again after', async () => {
    const sink = await startWebhookSink();
    try {
      const chat = sim.teams.createChat({ members: [ALICE, BOB] });
      const sub = await graph.post('/v1.0/subscriptions', { changeType: 'created', notificationUrl: sink.url, resource: `/chats/${chat.id}/messages`, expirationDateTime: inMinutes(30) });
      expect(sub.status).toBe(201);
      expect((await graph.patch('/_simulator/delivery', { dropAll: true })).body.dropAll).toBe(true);
      const lost = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'lost' });
      await sim.deliveries.idle();
      const dropped = sim.deliveries.log.filter((a) => a.dropped);
      expect(dropped).toHaveLength(1);
      expect(dropped[0]).toMatchObject({ status: 'dropped', notifications: 1, subscriptionIds: [sub.body.id] });
      expect(dropped[0]?.items[0]?.resource).toBe(`chats('${chat.id}')/messages('${lost.id}')`);
      expect(sink.notifications()).toHaveLength(0);

      await graph.patch('/_simulator/delivery', { dropAll: false });
      const found = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'found' });
      const [n] = await sink.waitForNotifications(1);
      expect(n?.resource).toBe(`chats('${chat.id}')/messages('${found.id}')`);
      // The lost message is still there for a backfill to find.
      expect((await get(`/v1.0/chats/${chat.id}/messages`)).body.value.map((m: { id: string }) => m.id)).toEqual([found.id, lost.id]);
    } finally {
      await sink.close();
    }
  });
});

describe('scale', () => {
  it('holds 10,000 messages in 100 chats and pages through all of them with getAllMessages exactly once', async () => {
    const chats = Array.from({ length: 100 }, () => sim.teams.createChat({ members: [ALICE, BOB] }));
    const start = sim.clock.now() - 1;
    for (const chat of chats) for (let i = 0; i < 100; i++) sim.teams.postChatMessage(chat.id, { from: i % 2 ? ALICE : BOB, content: `m${i}` });
    const end = sim.clock.now() + 1;
    const { items, pages } = await collect(`/v1.0/users/${ALICE}/chats/getAllMessages${q({ $top: 50, $filter: `lastModifiedDateTime gt ${iso(start)} and lastModifiedDateTime lt ${iso(end)}` })}`);
    expect(pages).toHaveLength(200);
    const keys = new Set(items.map((m) => `${m.chatId}|${m.id}`));
    expect(keys.size).toBe(10_000);
    const perChat = await collect(`/v1.0/chats/${chats[42]?.id}/messages${q({ $top: 50 })}`);
    expect(perChat.items).toHaveLength(100);
  });
});
