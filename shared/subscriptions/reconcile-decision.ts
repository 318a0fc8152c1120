import type { EncryptionCertificate } from '../certificates/certificate-store.js';
import type { GraphSubscription } from '../graph/graph-client.js';
import { isGraphRequestError } from '../graph/graph-client.js';
import { describeClientStateUse, type ClientStateEvidence, type ClientStateUse } from './client-state-fingerprint.js';
import type { DesiredSubscription } from './desired-subscriptions.js';
import { isQuotaRefusal } from './graph-refusal.js';
import { carriedGapWindows, type SubscriptionRecord } from './subscription-records.js';

const MINUTE = 60_000;

/** After a 403 (quota or permission), wait this long before asking Graph again, unless forced. */
export const FORBIDDEN_BACKOFF_MS = 60 * MINUTE;

/** The resource without its licensing model, which PATCH cannot change: a different model means recreate. */
const norm = (resource: string) => {
  const [path = '', query = ''] = decodeURIComponent(resource.replace(/^\/+/, '')).split('?', 2);
  const params = new URLSearchParams(query);
  params.delete('model');
  const rest = [...params]
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
  return `${path}${rest ? `?${rest}` : ''}`.toLowerCase();
};
const modelOf = (resource: string) => new URLSearchParams(resource.split('?', 2)[1] ?? '').get('model') ?? '';
const types = (changeType: string | readonly string[]) =>
  (typeof changeType === 'string' ? changeType.split(',') : [...changeType])
    .map((c) => c.trim().toLowerCase())
    .sort()
    .join(',');
const onCurrentSecret = (use: ClientStateUse) => typeof use === 'object' && use.position === 1;
const gapOpen = (record: SubscriptionRecord | undefined) => !!record?.gapFrom && !record.gapTo;

/** What a run did with an entry. */
export type EntryAction = 'created' | 'adopted' | 'renewed' | 'rotated' | 'recreated' | 'unchanged' | 'failed' | 'skipped';

/** A subscription is the entry's when it has the same resource (any licensing model, any case) and the same changeTypes. */
export function matches(s: Pick<GraphSubscription, 'resource' | 'changeType'>, d: DesiredSubscription): boolean {
  return norm(s.resource) === norm(d.resource) && types(s.changeType) === types(d.changeTypes);
}

/** The expiry a created or renewed subscription asks for: its whole lifetime from `now`, less a minute. */
export function expiryFor(d: DesiredSubscription, now: number): string {
  return new Date(now + d.lifetimeMinutes * MINUTE - MINUTE).toISOString();
}

/**
 * Why an entry is not asked of Graph this run, or undefined: Graph refused it a 403 (quota or permission)
 * less than FORBIDDEN_BACKOFF_MS ago (no retry storm), unless forced or the entry has an open gap, which is
 * ours to close and never held back.
 */
export function heldBack(record: SubscriptionRecord | undefined, now: number, force: boolean): string | undefined {
  if (force || gapOpen(record) || record?.lastErrorStatus !== 403 || !record.lastErrorAt) return undefined;
  return now - Date.parse(record.lastErrorAt) < FORBIDDEN_BACKOFF_MS ? (record.lastError ?? 'forbidden') : undefined;
}

/** Why a subscription is replaced rather than PATCHed: Graph's PATCH changes only its expiry and certificate. */
export type ReplaceReason = 'change_types_edited' | 'unpatchable_change' | `client_state_${string}`;

/** The PATCH of a subscription: a rotated certificate, a later expiry, or both. */
export interface SubscriptionPatch {
  readonly encryptionCertificate?: string;
  readonly encryptionCertificateId?: string;
  readonly expirationDateTime?: string;
}

/** What the reconciler asks of Graph for one entry (one not held back). */
export type EntryDecision =
  /** Graph has no subscription for it: create one; `record` is the entry's record with the window without one opened (lostWindow). */
  | { readonly do: 'create'; readonly action: 'created' | 'recreated'; readonly record: SubscriptionRecord | undefined }
  | { readonly do: 'replace'; readonly existing: GraphSubscription; readonly reason: ReplaceReason }
  | { readonly do: 'patch'; readonly existing: GraphSubscription; readonly patch: SubscriptionPatch; readonly action: 'rotated' | 'renewed' }
  | { readonly do: 'keep'; readonly existing: GraphSubscription };

export interface EntryInput {
  readonly desired: DesiredSubscription;
  /** Every desired entry: a subscription another entry asks for is never taken for this one's edited one. */
  readonly allDesired: readonly DesiredSubscription[];
  /** The entry's record, if any. */
  readonly record: SubscriptionRecord | undefined;
  /** Our subscriptions in Graph (those on our notification URL). */
  readonly ours: readonly GraphSubscription[];
  /** The current encryption certificate, for an entry with resource data. */
  readonly certificate: EncryptionCertificate | undefined;
  readonly lifecycleUrl: string;
  /** Which configured clientState a subscription uses (ConfiguredClientStates.useOf). */
  readonly clientStateUse: (evidence: ClientStateEvidence) => ClientStateUse;
  /** Renew what expires within this many minutes (at most half the entry's lifetime). */
  readonly renewWithinMinutes: number;
  readonly now: number;
}

/**
 * Decides one entry from what Graph and the record hold: create what is missing; replace what PATCH cannot
 * change (changeTypes, resource data, lifecycle URL, licensing model) or what is not on the first configured
 * clientState; PATCH a subscription on an older certificate (and renew it with it) or one that expires within
 * min(renewWithinMinutes, lifetime / 2); keep the rest.
 */
export function decideEntry(input: EntryInput): EntryDecision {
  const { desired: d, record, ours, certificate: cert, now } = input;
  const existing = ours.find((s) => s.id === record?.subscriptionId && matches(s, d)) ?? ours.find((s) => matches(s, d)) ?? editedSubscription(input);
  if (!existing) return { do: 'create', action: 'created', record: lostWindow(record, now) };

  const typesEdited = types(existing.changeType) !== types(d.changeTypes);
  const needsRecreate =
    typesEdited || (existing.includeResourceData ?? false) !== d.includeResourceData || existing.lifecycleNotificationUrl !== input.lifecycleUrl || modelOf(existing.resource) !== modelOf(d.resource);
  const use = input.clientStateUse({
    ...(existing.clientState !== undefined ? { clientState: existing.clientState } : {}),
    ...(record?.subscriptionId === existing.id && record.clientStateFingerprint ? { fingerprint: record.clientStateFingerprint } : {}),
  });
  if (needsRecreate || !onCurrentSecret(use)) {
    const reason: ReplaceReason = typesEdited ? 'change_types_edited' : needsRecreate ? 'unpatchable_change' : `client_state_${describeClientStateUse(use).split(' ')[0]}`;
    return { do: 'replace', existing, reason };
  }
  const rotated = !!cert && existing.encryptionCertificateId !== cert.id;
  const window = Math.min(input.renewWithinMinutes, d.lifetimeMinutes / 2) * MINUTE;
  const expiring = Date.parse(existing.expirationDateTime) - now < window;
  if (!rotated && !expiring) return { do: 'keep', existing };
  // A rotated certificate is PATCHed with a new expiry too: one request, and the subscription renewed with it.
  const patch: SubscriptionPatch = { ...(rotated ? { encryptionCertificate: cert.certificateBase64, encryptionCertificateId: cert.id } : {}), expirationDateTime: expiryFor(d, now) };
  return { do: 'patch', existing, patch, action: rotated ? 'rotated' : 'renewed' };
}

/**
 * The subscription of an entry whose `changeTypes` were edited: ours on the same resource, with other
 * changeTypes that no other desired entry asks for (its own subscription first). PATCH cannot change
 * changeType, so it is replaced.
 */
function editedSubscription({ desired: d, allDesired, ours, record }: EntryInput): GraphSubscription | undefined {
  const wantedElsewhere = (s: GraphSubscription) => allDesired.some((o) => o !== d && matches(s, o));
  const candidates = ours.filter((s) => norm(s.resource) === norm(d.resource) && !wantedElsewhere(s));
  return candidates.find((s) => s.id === record?.subscriptionId) ?? candidates[0];
}

/**
 * The record of an entry whose subscription Graph no longer has (removed, expired, deleted by someone):
 * a gap opens when the app last saw it alive (`seenAt`, never moved by a failed run; a record from before
 * it has its last update), or at its expiry if earlier, so that the subscription created now closes it and
 * the window is announced and read back. A record without subscription, or with a gap open, is kept as is.
 */
export function lostWindow(record: SubscriptionRecord | undefined, now: number): SubscriptionRecord | undefined {
  if (!record?.subscriptionId || gapOpen(record)) return record;
  const seen = Math.min(Date.parse(record.seenAt ?? record.updatedAt), record.expiresAt ? Date.parse(record.expiresAt) : Number.POSITIVE_INFINITY);
  const { gapTo: _closed, ...rest } = record;
  return { ...rest, ...carriedGapWindows(record), gapFrom: new Date(Number.isFinite(seen) ? seen : now).toISOString(), gapSubscriptionId: record.subscriptionId };
}

/** After a PATCH failed: a 404 (Graph lost the subscription meanwhile) creates it again, from its lost window; anything else is the entry's failure. */
export function afterPatchFailed(e: unknown, record: SubscriptionRecord | undefined, now: number): Extract<EntryDecision, { do: 'create' }> | undefined {
  return isGraphRequestError(e, 404) ? { do: 'create', action: 'recreated', record: lostWindow(record, now) } : undefined;
}

/**
 * After a create got 409 (another deployment made it, or its record was lost): the subscription of Graph's
 * list that the entry adopts, and whether it is known to be on the current clientState (only if Graph says
 * so: otherwise the next run brings it onto the current one). Nothing when Graph lists none: the 409 stands.
 */
export function adoptionAfterConflict(
  d: DesiredSubscription,
  listed: readonly GraphSubscription[],
  clientStateUse: (evidence: ClientStateEvidence) => ClientStateUse,
): { readonly subscription: GraphSubscription; readonly onCurrentSecret: boolean } | undefined {
  const found = listed.find((s) => matches(s, d));
  return found && { subscription: found, onCurrentSecret: onCurrentSecret(clientStateUse({ clientState: found.clientState ?? null })) };
}

/**
 * Whether a replacement whose create Graph refused deletes the old subscription first: 409 (same resource
 * and changeType) or a 403 naming a quota (one per chat or channel, per user, per tenant). A refused access
 * (permission, protected API, licensing) would refuse the new one too: the old one is kept.
 */
export function deletesFirst(e: unknown): boolean {
  return isGraphRequestError(e, 409) || (isGraphRequestError(e, 403) && isQuotaRefusal(e));
}

/**
 * The entry's record written before a delete-first replacement deletes `existingId`: the window without
 * subscription opens now (so neither a crash nor a failed create loses it) and the record points at nothing.
 * A gap still open (a create whose answer was lost, say) is widened, never forgotten.
 */
export function gapRecordBeforeDelete(d: DesiredSubscription, record: SubscriptionRecord | undefined, existingId: string, now: number): SubscriptionRecord {
  const at = new Date(now).toISOString();
  const open = gapOpen(record) ? record : undefined;
  return {
    name: d.name,
    resource: d.resource,
    changeTypes: d.changeTypes.join(','),
    ...(record?.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}),
    ...carriedGapWindows(record),
    gapFrom: open?.gapFrom ?? at,
    gapSubscriptionId: open?.gapSubscriptionId ?? existingId,
    lastAction: 'deleted',
    updatedAt: at,
  };
}

/**
 * The entry's record once Graph holds `s` for it (seen alive `now`): a gap the record had open ends now, its
 * earlier windows are kept; anything but keeping or adopting renews it.
 */
export function savedRecord(
  d: DesiredSubscription,
  action: EntryAction,
  s: GraphSubscription,
  record: SubscriptionRecord | undefined,
  fingerprint: string | undefined,
  now: number,
): SubscriptionRecord {
  const at = new Date(now).toISOString();
  const renewed = action !== 'unchanged' && action !== 'adopted';
  return {
    name: d.name,
    subscriptionId: s.id,
    resource: d.resource,
    changeTypes: d.changeTypes.join(','),
    expiresAt: s.expirationDateTime,
    ...(renewed ? { lastRenewedAt: at } : record?.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}),
    ...(s.encryptionCertificateId ? { certificateId: s.encryptionCertificateId } : {}),
    ...(fingerprint ? { clientStateFingerprint: fingerprint } : {}),
    ...(record?.earlierGaps ? { earlierGaps: record.earlierGaps } : {}),
    ...(record?.gapFrom ? { gapFrom: record.gapFrom, gapTo: record.gapTo ?? at, ...(record.gapSubscriptionId ? { gapSubscriptionId: record.gapSubscriptionId } : {}) } : {}),
    lastAction: action,
    subscribedAt: record?.subscriptionId === s.id && record.subscribedAt ? record.subscribedAt : at,
    seenAt: at,
    updatedAt: at,
  };
}
