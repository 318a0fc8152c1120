import { describe, expect, it } from 'vitest';
import type { EncryptionCertificate } from '../../shared/certificates/certificate-store.js';
import type { GraphSubscription } from '../../shared/graph/graph-client.js';
import { GraphRequestError } from '../../shared/graph/graph-request-error.js';
import type { ClientStateEvidence, ClientStateUse } from '../../shared/subscriptions/client-state-fingerprint.js';
import { parseDesiredSubscriptions, type DesiredSubscription } from '../../shared/subscriptions/desired-subscriptions.js';
import {
  adoptionAfterConflict,
  afterPatchFailed,
  decideEntry,
  deletesFirst,
  FORBIDDEN_BACKOFF_MS,
  gapRecordBeforeDelete,
  heldBack,
  lostWindow,
  savedRecord,
  type EntryInput,
} from '../../shared/subscriptions/reconcile-decision.js';
import type { SubscriptionRecord } from '../../shared/subscriptions/subscription-records.js';

const MINUTE = 60_000;
const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const at = (minutes: number) => new Date(NOW + minutes * MINUTE).toISOString();
const LIFECYCLE = 'https://relay.example/api/lifecycle';
const CERT: EncryptionCertificate = { id: 'cert-v2', certificateBase64: 'TUlJQg==', thumbprint: 'ab12', notAfter: new Date(NOW + 365 * 24 * 60 * MINUTE) };

const [chats, members, messages] = parseDesiredSubscriptions({
  subscriptions: [
    { name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: true, lifetimeMinutes: 120 },
    { name: 'all-members', resource: '/chats/getAllMembers', changeTypes: ['created', 'deleted'], lifetimeMinutes: 60 },
    { name: 'all-messages', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'], includeResourceData: true },
  ],
}) as [DesiredSubscription, DesiredSubscription, DesiredSubscription];
const ALL = [chats, members, messages];

/** Graph's view of `d`'s subscription, healthy: current certificate, our lifecycle URL, 100 minutes left. */
const inGraph = (d: DesiredSubscription, over: Partial<GraphSubscription> = {}): GraphSubscription => ({
  id: `sub-${d.name}`,
  resource: d.resource,
  changeType: d.changeTypes.join(','),
  notificationUrl: 'https://relay.example/api/notifications',
  lifecycleNotificationUrl: LIFECYCLE,
  expirationDateTime: at(100),
  includeResourceData: d.includeResourceData,
  encryptionCertificateId: d.includeResourceData ? CERT.id : null,
  clientState: null,
  ...over,
});
const recordOf = (d: DesiredSubscription, over: Partial<SubscriptionRecord> = {}): SubscriptionRecord => ({
  name: d.name,
  subscriptionId: `sub-${d.name}`,
  resource: d.resource,
  changeTypes: d.changeTypes.join(','),
  clientStateFingerprint: 'v1.current',
  seenAt: at(-20),
  updatedAt: at(-5),
  ...over,
});
const onSecret = (use: ClientStateUse) => (): ClientStateUse => use;
const input = (over: Partial<EntryInput> = {}): EntryInput => ({
  desired: chats,
  allDesired: ALL,
  record: recordOf(chats),
  ours: ALL.map((d) => inGraph(d)),
  certificate: CERT,
  lifecycleUrl: LIFECYCLE,
  clientStateUse: onSecret({ position: 1 }),
  renewWithinMinutes: 30,
  now: NOW,
  ...over,
});
const graphError = (status: number, message = 'refused') => new GraphRequestError(status, 'Code', message);

describe('heldBack: the hour after a 403', () => {
  const refused = (over: Partial<SubscriptionRecord> = {}) => recordOf(chats, { lastErrorStatus: 403, lastError: 'missing application permission Chat.Read.All', lastErrorAt: at(-10), ...over });
  it.each<[string, SubscriptionRecord | undefined, boolean, string | undefined]>([
    ['a 403 ten minutes ago holds the entry back, with its error', refused(), false, 'missing application permission Chat.Read.All'],
    ['a 403 without a stored message still holds it back', refused({ lastError: undefined }), false, 'forbidden'],
    ['a closed gap does not lift the back-off', refused({ gapFrom: at(-90), gapTo: at(-80) }), false, 'missing application permission Chat.Read.All'],
    ['forced (sync --force, subscriptionRemoved), it is asked again', refused(), true, undefined],
    ['an open gap is ours to close: never held back', refused({ gapFrom: at(-15) }), false, undefined],
    ['the back-off is over after an hour', refused({ lastErrorAt: new Date(NOW - FORBIDDEN_BACKOFF_MS).toISOString() }), false, undefined],
    ['just inside the hour it still holds', refused({ lastErrorAt: new Date(NOW - FORBIDDEN_BACKOFF_MS + 1).toISOString() }), false, 'missing application permission Chat.Read.All'],
    ['any other failure (a 500, a 429) is retried at once', refused({ lastErrorStatus: 500 }), false, undefined],
    ['a 403 without its time is not held back', refused({ lastErrorAt: undefined }), false, undefined],
    ['an entry never seen before', undefined, false, undefined],
  ])('%s', (_, record, force, expected) => {
    expect(heldBack(record, NOW, force)).toBe(expected);
  });
});

describe('decideEntry', () => {
  it('keeps a subscription on the current secret, certificate and lifecycle URL that is far from expiry', () => {
    expect(decideEntry(input())).toEqual({ do: 'keep', existing: inGraph(chats) });
  });

  it("matches Graph's spelling of the resource and changeTypes (case, leading slash, order, spaces), and prefers the recorded subscription", () => {
    const other = inGraph(chats, { id: 'sub-other' });
    const spelled = inGraph(chats, { resource: 'CHATS', changeType: 'updated, created' });
    expect(decideEntry(input({ ours: [other, spelled] }))).toEqual({ do: 'keep', existing: spelled });
    expect(decideEntry(input({ ours: [other, spelled], record: undefined }))).toEqual({ do: 'keep', existing: other });
  });

  it('creates what Graph does not have, opening the window from when the old one was last seen alive', () => {
    const decision = decideEntry(input({ ours: [inGraph(members)] }));
    expect(decision).toEqual({ do: 'create', action: 'created', record: { ...recordOf(chats), gapFrom: at(-20), gapSubscriptionId: 'sub-all-chats' } });
    expect(decideEntry(input({ ours: [], record: undefined }))).toEqual({ do: 'create', action: 'created', record: undefined });
  });

  it.each<[string, Partial<EntryInput>, string]>([
    ['changeTypes edited in the file', { ours: [inGraph(chats, { changeType: 'created' })] }, 'change_types_edited'],
    ['changeTypes edited along with a change PATCH cannot make: the edit names it', { ours: [inGraph(chats, { changeType: 'created', includeResourceData: false })] }, 'change_types_edited'],
    ['resource data switched off in Graph', { ours: [inGraph(chats, { includeResourceData: false })] }, 'unpatchable_change'],
    ['another lifecycle URL', { ours: [inGraph(chats, { lifecycleNotificationUrl: 'https://old.example/api/lifecycle' })] }, 'unpatchable_change'],
    ['no lifecycle URL', { ours: [inGraph(chats, { lifecycleNotificationUrl: null })] }, 'unpatchable_change'],
    ['another licensing model', { desired: messages, record: recordOf(messages), ours: [inGraph(messages, { resource: '/chats/getAllMessages?model=A' })] }, 'unpatchable_change'],
    ['an unpatchable change on the previous secret: the change names it', { ours: [inGraph(chats, { includeResourceData: false })], clientStateUse: onSecret({ position: 2 }) }, 'unpatchable_change'],
    ['the previous clientState', { clientStateUse: onSecret({ position: 2 }) }, 'client_state_2'],
    ['a third clientState', { clientStateUse: onSecret({ position: 3 }) }, 'client_state_3'],
    ['none of the configured clientStates', { clientStateUse: onSecret('none') }, 'client_state_none'],
    ['an unknown clientState (no fingerprint recorded)', { clientStateUse: onSecret('unknown') }, 'client_state_unknown'],
  ])('replaces what PATCH cannot change: %s', (_, over, reason) => {
    const given = input(over);
    expect(decideEntry(given)).toEqual({ do: 'replace', existing: given.ours.find((s) => s.id === `sub-${given.desired.name}`), reason });
  });

  it("takes a subscription on the entry's resource with other changeTypes as its edited one, unless another entry asks for those", () => {
    const createdOnly = inGraph(chats, { id: 'sub-created', changeType: 'created' });
    expect(decideEntry(input({ ours: [createdOnly] }))).toMatchObject({ do: 'replace', existing: createdOnly, reason: 'change_types_edited' });
    const wantedElsewhere = { ...chats, name: 'chats-created', changeTypes: ['created'] };
    expect(decideEntry(input({ ours: [createdOnly], allDesired: [...ALL, wantedElsewhere] }))).toMatchObject({ do: 'create', action: 'created' });
  });

  it("asks which secret from Graph's clientState and from the fingerprint recorded for that very subscription only", () => {
    const asked: ClientStateEvidence[] = [];
    const clientStateUse = (evidence: ClientStateEvidence): ClientStateUse => {
      asked.push(evidence);
      return { position: 1 };
    };
    decideEntry(input({ clientStateUse }));
    decideEntry(input({ clientStateUse, ours: [inGraph(chats, { clientState: 'secret-1' })] }));
    decideEntry(input({ clientStateUse, record: recordOf(chats, { subscriptionId: 'sub-replaced-meanwhile' }) }));
    expect(asked).toEqual([{ clientState: null, fingerprint: 'v1.current' }, { clientState: 'secret-1', fingerprint: 'v1.current' }, { clientState: null }]);
  });

  it('rotates a subscription still on an older certificate, renewing it in the same PATCH', () => {
    const old = inGraph(chats, { encryptionCertificateId: 'cert-v1' });
    expect(decideEntry(input({ ours: [old] }))).toEqual({
      do: 'patch',
      existing: old,
      action: 'rotated',
      patch: { encryptionCertificate: CERT.certificateBase64, encryptionCertificateId: CERT.id, expirationDateTime: at(120 - 1) },
    });
  });

  it('never rotates a subscription without resource data (no certificate)', () => {
    const input2 = input({ desired: members, record: recordOf(members), certificate: undefined, ours: [inGraph(members, { encryptionCertificateId: 'cert-v1' })] });
    expect(decideEntry(input2)).toMatchObject({ do: 'keep' });
  });

  it.each<[string, number, number, number, 'keep' | 'patch']>([
    // [what, lifetimeMinutes, renewWithinMinutes, minutes left, decision]
    ['renewWithin is the window when it is under half the lifetime: outside', 120, 30, 31, 'keep'],
    ['renewWithin is the window when it is under half the lifetime: inside', 120, 30, 29, 'patch'],
    ['half the lifetime is the window when renewWithin is longer: outside', 50, 30, 26, 'keep'],
    ['half the lifetime is the window when renewWithin is longer: inside', 50, 30, 24, 'patch'],
    ['already expired', 120, 30, -1, 'patch'],
  ])('renews within min(renewWithin, lifetime / 2): %s', (_, lifetimeMinutes, renewWithinMinutes, left, expected) => {
    const desired = { ...chats, lifetimeMinutes };
    const existing = inGraph(chats, { expirationDateTime: at(left) });
    const decision = decideEntry(input({ desired, renewWithinMinutes, ours: [existing] }));
    expect(decision).toEqual(expected === 'keep' ? { do: 'keep', existing } : { do: 'patch', existing, action: 'renewed', patch: { expirationDateTime: at(lifetimeMinutes - 1) } });
  });
});

describe('after Graph answers', () => {
  it('a PATCH that got 404 (Graph lost the subscription meanwhile) creates it again from its lost window; any other failure is the entry’s', () => {
    const record = recordOf(chats, { expiresAt: at(-30) });
    expect(afterPatchFailed(graphError(404), record, NOW)).toEqual({ do: 'create', action: 'recreated', record: { ...record, gapFrom: at(-30), gapSubscriptionId: 'sub-all-chats' } });
    expect(afterPatchFailed(graphError(500), record, NOW)).toBeUndefined();
    expect(afterPatchFailed(graphError(403), record, NOW)).toBeUndefined();
    expect(afterPatchFailed(new Error('socket hang up'), record, NOW)).toBeUndefined();
  });

  it("a create that got 409 adopts the entry's subscription from Graph's list, on the current secret only when Graph says so", () => {
    const listed = [inGraph(members), inGraph(chats, { resource: '/Chats', clientState: 'secret-1' })];
    const asked: ClientStateEvidence[] = [];
    const use = (position: number) => (evidence: ClientStateEvidence) => {
      asked.push(evidence);
      return { position };
    };
    expect(adoptionAfterConflict(chats, listed, use(1))).toEqual({ subscription: listed[1], onCurrentSecret: true });
    expect(adoptionAfterConflict(chats, listed, use(2))).toEqual({ subscription: listed[1], onCurrentSecret: false });
    expect(adoptionAfterConflict(members, listed, onSecret('unknown'))).toEqual({ subscription: listed[0], onCurrentSecret: false });
    expect(asked).toEqual([{ clientState: 'secret-1' }, { clientState: 'secret-1' }]);
    expect(adoptionAfterConflict(messages, listed, use(1))).toBeUndefined();
  });

  it.each<[string, unknown, boolean]>([
    ['409 (same resource and changeType)', graphError(409, 'already exists'), true],
    ['403 naming a quota', graphError(403, 'The maximum number of subscriptions for this chat has been reached'), true],
    ['403 for access (a permission)', graphError(403, "Operation requires one of ('Chat.Read.All') is missing"), false],
    ['400', graphError(400, 'Subscription validation request failed'), false],
    ['a network error', new Error('ECONNRESET'), false],
  ])('a replacement whose create got %s deletes the old subscription first: %s', (_, e, expected) => {
    expect(deletesFirst(e)).toBe(expected);
  });

  it('before a delete-first replacement, the record points at nothing and its gap opens now, an earlier closed window kept', () => {
    const record = recordOf(chats, { lastRenewedAt: at(-60), gapFrom: at(-300), gapTo: at(-290), gapSubscriptionId: 'sub-older' });
    expect(gapRecordBeforeDelete(chats, record, 'sub-all-chats', NOW)).toEqual({
      name: 'all-chats',
      resource: '/chats',
      changeTypes: 'created,updated',
      lastRenewedAt: at(-60),
      earlierGaps: JSON.stringify([{ from: at(-300), to: at(-290) }]),
      gapFrom: at(0),
      gapSubscriptionId: 'sub-all-chats',
      lastAction: 'deleted',
      updatedAt: at(0),
    });
  });

  it('before a delete-first replacement, a gap still open is widened, never forgotten', () => {
    const record = recordOf(chats, { subscriptionId: undefined, gapFrom: at(-7), gapSubscriptionId: 'sub-first' });
    expect(gapRecordBeforeDelete(chats, record, 'sub-second', NOW)).toMatchObject({ gapFrom: at(-7), gapSubscriptionId: 'sub-first' });
    expect(gapRecordBeforeDelete(chats, record, 'sub-second', NOW)).not.toHaveProperty('subscriptionId');
  });
});

describe('lostWindow and savedRecord', () => {
  it.each<[string, Partial<SubscriptionRecord>, string | undefined]>([
    ['from when it was last seen alive', {}, at(-20)],
    ['from its expiry when that came first', { expiresAt: at(-40) }, at(-40)],
    ['from its last update for a record from before seenAt', { seenAt: undefined }, at(-5)],
    ['from now when the record holds no time', { seenAt: undefined, updatedAt: 'not a time' }, at(0)],
  ])('a lost subscription opens its window %s', (_, over, gapFrom) => {
    expect(lostWindow(recordOf(chats, over), NOW)).toMatchObject({ gapFrom, gapSubscriptionId: 'sub-all-chats' });
  });

  it('a record without subscription, or with its gap open, is left as it is; a closed gap moves to the earlier windows', () => {
    const none = recordOf(chats, { subscriptionId: undefined });
    const open = recordOf(chats, { gapFrom: at(-3) });
    expect(lostWindow(none, NOW)).toBe(none);
    expect(lostWindow(open, NOW)).toBe(open);
    expect(lostWindow(undefined, NOW)).toBeUndefined();
    const closed = lostWindow(recordOf(chats, { gapFrom: at(-90), gapTo: at(-80) }), NOW);
    expect(closed).toMatchObject({ gapFrom: at(-20), earlierGaps: JSON.stringify([{ from: at(-90), to: at(-80) }]) });
    expect(closed).not.toHaveProperty('gapTo');
  });

  it('the saved record closes an open gap now and dates a renewal; keeping or adopting keeps the last renewal', () => {
    const s = inGraph(chats, { id: 'sub-new', expirationDateTime: at(119) });
    const record = recordOf(chats, { subscriptionId: undefined, lastRenewedAt: at(-60), gapFrom: at(-7), gapSubscriptionId: 'sub-old' });
    expect(savedRecord(chats, 'recreated', s, record, 'v1.current', NOW)).toEqual({
      name: 'all-chats',
      subscriptionId: 'sub-new',
      resource: '/chats',
      changeTypes: 'created,updated',
      expiresAt: at(119),
      lastRenewedAt: at(0),
      certificateId: CERT.id,
      clientStateFingerprint: 'v1.current',
      gapFrom: at(-7),
      gapTo: at(0),
      gapSubscriptionId: 'sub-old',
      lastAction: 'recreated',
      subscribedAt: at(0),
      seenAt: at(0),
      updatedAt: at(0),
    });
    // The subscription's first record dates it; a later run on the same subscription keeps that date.
    const kept = savedRecord(chats, 'recreated', s, record, 'v1.current', NOW);
    expect(savedRecord(chats, 'renewed', s, kept, 'v1.current', NOW + 3_600_000).subscribedAt).toBe(at(0));
    expect(savedRecord(chats, 'recreated', { ...s, id: 'sub-newer' }, kept, 'v1.current', NOW + 3_600_000).subscribedAt).toBe(new Date(NOW + 3_600_000).toISOString());
    expect(savedRecord(chats, 'adopted', s, record, undefined, NOW)).toMatchObject({ lastRenewedAt: at(-60), lastAction: 'adopted' });
    expect(savedRecord(chats, 'adopted', s, record, undefined, NOW)).not.toHaveProperty('clientStateFingerprint');
    expect(savedRecord(chats, 'unchanged', s, recordOf(chats), 'v1.current', NOW)).not.toHaveProperty('lastRenewedAt');
  });
});
