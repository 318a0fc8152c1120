import { describe, expect, it } from 'vitest';
import type { RecordedChange } from '../../dev/graph-simulator/change-log.js';
import { compareLedger, type FoundEvent } from '../../dev/chaos/ledger.js';
import { FAULT_KINDS, planChaos } from '../../dev/chaos/plan.js';

const options = { seconds: 120, rate: 4, subscriptions: 4, lifetimeMinutes: 45, longDowntimeMs: 88_000 };

describe('the chaos schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = planChaos({ ...options, seed: 42 });
    expect(planChaos({ ...options, seed: 42 })).toEqual(a);
    expect(planChaos({ ...options, seed: 43 }).activity).not.toEqual(a.activity);
  });

  it('holds enough activity and at least four fault kinds in two minutes, whatever the seed', () => {
    for (let seed = 0; seed < 30; seed++) {
      const plan = planChaos({ ...options, seed });
      expect(plan.activity.length).toBeGreaterThan(300);
      expect(new Set(plan.faults.map((f) => f.kind)).size).toBeGreaterThanOrEqual(4);
    }
  });

  it('can hold every fault kind in two minutes (seed 1), the clock moving once, faults within the run', () => {
    const plan = planChaos({ ...options, seed: 1 });
    expect(plan.activity.length).toBeGreaterThan(300);
    expect(new Set(plan.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    expect(plan.faults.filter((f) => f.kind === 'clockAdvance')).toHaveLength(1);
    expect(Math.max(...plan.faults.map((f) => f.at))).toBeLessThan(120_000);
  });

  it('kills single instances in turn: a route instance, the HTTP one, a timer’s, then again', () => {
    const plan = planChaos({ ...options, seed: 5, faultKinds: ['instanceKill'] });
    const targets = plan.faults.map((f) => (f.kind === 'instanceKill' ? f.target : f.kind));
    expect(targets.length).toBeGreaterThanOrEqual(4);
    expect(targets.slice(0, 4)).toEqual(['route', 'http', 'timer', 'route']);
  });

  it('only refers to chats and messages that exist and are not deleted', () => {
    const plan = planChaos({ ...options, seed: 5, seconds: 300 });
    const chats = new Set<number>();
    const deleted = new Set<string>();
    for (const op of plan.activity) {
      if (op.op === 'createChat') chats.add(op.chat);
      else if ('chat' in op) expect(chats.has(op.chat)).toBe(true);
      if (op.op === 'editChatMessage' || op.op === 'editChannelMessage') expect(deleted.has(`${op.op.slice(4)}${op.message}`)).toBe(false);
      if (op.op === 'deleteChatMessage' || op.op === 'deleteChannelMessage') {
        expect(deleted.has(`${op.op.slice(6)}${op.message}`)).toBe(false);
        deleted.add(`${op.op.slice(6)}${op.message}`);
      }
    }
  });
});

let seq = 0;
const change = (resource: string, changeType: string, version: string | null, wallMs: number, extra: Partial<RecordedChange> = {}): RecordedChange => ({
  seq: ++seq,
  kind: resource.includes('/members(') ? 'member' : resource.includes('/messages(') ? 'chatMessage' : 'chat',
  changeType,
  resource,
  version,
  at: new Date(wallMs).toISOString(),
  wallMs,
  ...extra,
});
const event = (subject: string, changeType: string, version: string | null, timeMs: number, backfilled = false): FoundEvent => ({ subject, changeType, kind: 'x', version, timeMs, backfilled });
const M = "chats('19:a@thread.v2')/messages('1')";
const MEMBER = "chats('19:a@thread.v2')/members('m1')";

describe('the ledger', () => {
  it('finds each message change by resource, changeType and version, and counts extra copies', () => {
    const r = compareLedger({
      changes: [change(M, 'created', '100', 100), change(M, 'updated', '200', 200)],
      events: [event(M, 'created', '100', 100), event(M, 'created', '100', 100), event(M, 'updated', '200', 200)],
      deadLettered: [],
      gaps: [],
    });
    expect(r).toMatchObject({ changes: 2, delivered: 2, lost: 0, duplicates: 1, superseded: 0 });
  });

  it('counts a missing change as lost, unless it was dead-lettered, or superseded inside a gap the app recorded', () => {
    const changes = [change(M, 'created', '100', 100), change(M, 'updated', '200', 200)];
    const events = [event(M, 'updated', '200', 300, true)];
    expect(compareLedger({ changes, events, deadLettered: [], gaps: [] })).toMatchObject({ delivered: 1, lost: 1, lostSamples: [changes[0]] });
    expect(compareLedger({ changes, events, deadLettered: [], gaps: [{ kinds: ['chatMessage'], fromMs: 50, toMs: 150 }] })).toMatchObject({ delivered: 1, superseded: 1, lost: 0 });
    // A gap of another subscription does not excuse it.
    expect(compareLedger({ changes, events, deadLettered: [], gaps: [{ kinds: ['member'], fromMs: 50, toMs: 150 }] })).toMatchObject({ lost: 1 });
    expect(compareLedger({ changes, events, deadLettered: [{ subject: M, changeType: 'created', kind: 'chatMessage', version: '100' }], gaps: [] })).toMatchObject({ deadLettered: 1, lost: 0 });
    // The last state of a resource is never superseded.
    expect(compareLedger({ changes, events: [event(M, 'created', '100', 100)], deadLettered: [], gaps: [{ kinds: ['chatMessage'], fromMs: 0, toMs: 1000 }] })).toMatchObject({ lost: 1 });
  });

  it('matches membership changes (no version) in time order to distinct events received after each', () => {
    const changes = [change(MEMBER, 'created', null, 100), change(MEMBER, 'deleted', null, 200), change(MEMBER, 'created', null, 300)];
    expect(
      compareLedger({ changes, events: [event(MEMBER, 'created', null, 110), event(MEMBER, 'deleted', null, 210), event(MEMBER, 'created', null, 310)], deadLettered: [], gaps: [] }),
    ).toMatchObject({
      delivered: 3,
      lost: 0,
    });
    // The second addition's copy arrived before it happened: it is the first one's duplicate, the second is lost.
    expect(
      compareLedger({ changes, events: [event(MEMBER, 'created', null, 110), event(MEMBER, 'created', null, 120), event(MEMBER, 'deleted', null, 210)], deadLettered: [], gaps: [] }),
    ).toMatchObject({
      delivered: 2,
      lost: 1,
      duplicates: 1,
    });
  });

  it("holds a membership change in the chat's history to its own event, read back at the history's time: never superseded, counted by kind", () => {
    const gap = { kinds: ['member'], fromMs: 50, toMs: 250 };
    // The system messages' times are taken a moment before the changes are logged.
    const inHistory = () => [
      { ...change(MEMBER, 'created', null, 100), historyAt: new Date(99).toISOString() },
      { ...change(MEMBER, 'deleted', null, 200), historyAt: new Date(199).toISOString() },
    ];
    expect(compareLedger({ changes: inHistory(), events: [event(MEMBER, 'created', null, 99), event(MEMBER, 'deleted', null, 199)], deadLettered: [], gaps: [gap] })).toMatchObject({
      delivered: 2,
      lost: 0,
      superseded: 0,
    });
    expect(compareLedger({ changes: inHistory(), events: [], deadLettered: [], gaps: [gap] })).toMatchObject({ superseded: 0, supersededByKind: {}, lost: 2 });
    // A chat's first member leaves no system message of the addition, but the removal's tells it: held to account.
    const [first, removal] = inHistory();
    const { historyAt: _none, ...untold } = first!;
    expect(compareLedger({ changes: [untold, removal!], events: [event(MEMBER, 'deleted', null, 199)], deadLettered: [], gaps: [gap] })).toMatchObject({
      delivered: 1,
      superseded: 0,
      lost: 1,
    });
    expect(compareLedger({ changes: [untold, removal!], events: [event(MEMBER, 'created', null, 150), event(MEMBER, 'deleted', null, 199)], deadLettered: [], gaps: [gap] })).toMatchObject({
      delivered: 2,
      lost: 0,
    });
    // Read back at the chat's creation, logged a moment before the member's addition: it still counts for it.
    const chatCreated = change("chats('19:a@thread.v2')", 'created', new Date(99).toISOString(), 99);
    const atCreation = [event("chats('19:a@thread.v2')", 'created', new Date(99).toISOString(), 99), event(MEMBER, 'created', null, 99), event(MEMBER, 'deleted', null, 199)];
    expect(compareLedger({ changes: [chatCreated, untold, removal!], events: atCreation, deadLettered: [], gaps: [gap] })).toMatchObject({ delivered: 3, lost: 0, duplicates: 0 });
    expect(compareLedger({ changes: [untold, removal!], events: atCreation.slice(1), deadLettered: [], gaps: [gap] })).toMatchObject({ delivered: 1, lost: 1 });
    // Added again later (in history too): that addition's event stands for one of the two additions only.
    const readd = { ...change(MEMBER, 'created', null, 220), historyAt: new Date(219).toISOString() };
    expect(compareLedger({ changes: [untold, removal!, readd], events: [event(MEMBER, 'deleted', null, 199), event(MEMBER, 'created', null, 219)], deadLettered: [], gaps: [gap] })).toMatchObject({
      delivered: 2,
      lost: 1,
    });
  });

  describe('a member added and removed again inside one gap (no trace in the member lists)', () => {
    const gap = { kinds: ['member'], fromMs: 50, toMs: 250 };
    const pair = () => [change(MEMBER, 'created', null, 100), change(MEMBER, 'deleted', null, 200)];

    it('is superseded when neither change reached downstream and the member is absent at the gap end', () => {
      expect(compareLedger({ changes: pair(), events: [], deadLettered: [], gaps: [gap] })).toMatchObject({ superseded: 2, lost: 0 });
      // No gap recorded, or a gap of another subscription: both lost.
      expect(compareLedger({ changes: pair(), events: [], deadLettered: [], gaps: [] })).toMatchObject({ superseded: 0, lost: 2 });
      expect(compareLedger({ changes: pair(), events: [], deadLettered: [], gaps: [{ ...gap, kinds: ['chat'] }] })).toMatchObject({ lost: 2 });
    });

    it('is lost when the removal falls after the gap, or each change in a gap of its own', () => {
      const changes = [change(MEMBER, 'created', null, 100), change(MEMBER, 'deleted', null, 300)];
      expect(compareLedger({ changes, events: [], deadLettered: [], gaps: [gap] })).toMatchObject({ superseded: 0, lost: 2 });
      const apart = [
        { kinds: ['member'], fromMs: 50, toMs: 150 },
        { kinds: ['member'], fromMs: 250, toMs: 350 },
      ];
      expect(compareLedger({ changes, events: [], deadLettered: [], gaps: apart })).toMatchObject({ superseded: 0, lost: 2 });
    });

    it('is lost when the member is back by the end of the gap (a backfill lists them)', () => {
      const changes = [...pair(), change(MEMBER, 'created', null, 240)];
      expect(compareLedger({ changes, events: [], deadLettered: [], gaps: [gap] })).toMatchObject({ superseded: 0, lost: 3 });
    });

    it('excuses neither half when the addition reached downstream (the app knew the member and must report the removal)', () => {
      expect(compareLedger({ changes: pair(), events: [event(MEMBER, 'created', null, 150)], deadLettered: [], gaps: [gap] })).toMatchObject({
        delivered: 1,
        superseded: 0,
        lost: 1,
      });
    });

    it('leaves the copies of a later addition and removal to those changes', () => {
      // Added and removed again after the gap, both notified: the copies are theirs, not the vanished pair's.
      const changes = [...pair(), change(MEMBER, 'created', null, 400), change(MEMBER, 'deleted', null, 500)];
      const events = [event(MEMBER, 'created', null, 410), event(MEMBER, 'deleted', null, 510)];
      expect(compareLedger({ changes, events, deadLettered: [], gaps: [gap] })).toMatchObject({ delivered: 2, superseded: 2, lost: 0, duplicates: 0 });
      // Without the gap the same events stand for the first pair, as before: two changes lost.
      expect(compareLedger({ changes, events, deadLettered: [], gaps: [] })).toMatchObject({ delivered: 2, lost: 2 });
      // A copy that only the vanished addition can own (before the later one) still counts for it; its removal,
      // not found, is superseded by the membership's later state (the last event, a removal, agrees with it).
      const early = [event(MEMBER, 'created', null, 150), event(MEMBER, 'created', null, 410), event(MEMBER, 'deleted', null, 510)];
      expect(compareLedger({ changes, events: early, deadLettered: [], gaps: [gap] })).toMatchObject({ delivered: 3, superseded: 1, lost: 0, duplicates: 0 });
    });
  });

  it('leaves out a user hiding a chat (only user-specific subscriptions see it)', () => {
    const r = compareLedger({ changes: [change("chats('19:a@thread.v2')", 'updated', '2026', 1, { userSpecificFor: 'u' })], events: [], deadLettered: [], gaps: [] });
    expect(r).toMatchObject({ changes: 0, excluded: 1, lost: 0 });
  });
});
