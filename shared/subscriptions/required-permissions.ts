import { scopesOf } from '../backfill/backfill-piece.js';
import { CHAT_MESSAGES, GET_CHAT, SCOPE_READINGS, type GraphRead, type ScopeKind } from '../kinds/backfill-scopes.js';
import { kindNamed } from '../kinds/teams-kinds.js';
import type { DesiredSubscription } from './desired-subscriptions.js';

/**
 * The application permissions the app's Graph calls need, from what it is asked to do: each desired
 * subscription (its catalog entry's permissions, shared/kinds/) and, with the backfill, each kind of read the
 * backfill makes to fill that subscription's gaps (shared/kinds/backfill-scopes.ts, followed scope by scope as
 * the backfill worker does). Then a check of a token's `roles` against them.
 */

/** One permission need: any one of `anyOf` lets the app make the call. */
export interface PermissionNeed {
  /** What needs it: a subscription (`subscription <name>: <path>`) or one kind of backfill read (`backfill: list users`). */
  readonly for: string;
  /** Graph's accepted permissions, least privileged first (those ending in `.Chat`, `.Group`: resource-specific consent). */
  readonly anyOf: readonly string[];
  /** The desired entries that need it. */
  readonly entries: readonly string[];
  /** What a token cannot show and the call needs as well. */
  readonly also?: string;
}

/** Resource-specific consent (a Teams app's manifest, granted per chat or team): never in a token's `roles`. */
export const isResourceSpecific = (permission: string) => /\.(Chat|Group|Team)$/.test(permission);

const INSTALLED_TO_CHATS = /^\/appCatalogs\/teamsApps\/[^/]+\/installedToChats(\/|$)/;
const INSTALLED_ALSO =
  'the WhereInstalled permission is an application permission (admin consent), besides resource-specific consent: the Teams app, with its RSC permissions in its manifest, installed in each chat';
const PROTECTED_ALSO = "Microsoft's approval for Teams' protected APIs where still required (not in the token)";

/** The scope kinds a backfill of `scope` reads, its own and those it leads to (a plan's children, a history's comparison). */
function readsOf(desired: DesiredSubscription, first: ScopeKind, into: Set<ScopeKind>, reads: GraphRead[]): void {
  if (into.has(first)) return;
  into.add(first);
  if (first === 'plan') {
    const plan = kindNamed(desired.catalog.kind).backfill?.plan;
    if (!plan) return;
    reads.push(plan.read);
    readsOf(desired, plan.childScope('id').kind, into, reads);
    return;
  }
  const reading = SCOPE_READINGS[first];
  if (reading.read) reads.push(reading.read);
  for (const next of reading.leadsTo ?? []) readsOf(desired, next, into, reads);
}

/** The Graph reads the backfill makes for one desired subscription (none when it cannot read it back). */
export function backfillReadsOf(desired: DesiredSubscription): GraphRead[] {
  const covered = scopesOf(desired);
  if ('unsupported' in covered) return [];
  const kinds = new Set<ScopeKind>();
  const reads: GraphRead[] = [];
  for (const scope of covered.scopes) readsOf(desired, scope.kind, kinds, reads);
  // A chat created inside a gap: its first members are found from the chat and its messages (FirstMembers).
  if (kindNamed(desired.catalog.kind).membership && desired.changeTypes.includes('created') && kinds.has('chatMembers')) reads.push(GET_CHAT, CHAT_MESSAGES);
  return reads;
}

/**
 * What the app needs for `desired` (as parseDesiredSubscriptions gives them): one need per subscription, then
 * one per kind of backfill read (shared by the entries that make it) when `backfill` is on.
 */
export function requiredPermissions(desired: readonly DesiredSubscription[], options: { readonly backfill: boolean }): PermissionNeed[] {
  const needs: PermissionNeed[] = desired.map((d) => {
    const path = d.resource.split('?', 1)[0] ?? '';
    const also = INSTALLED_TO_CHATS.test(path) ? INSTALLED_ALSO : d.catalog.protectedApi ? PROTECTED_ALSO : undefined;
    return { for: `subscription ${d.name}: ${path}`, anyOf: d.catalog.permissions, entries: [d.name], ...(also ? { also } : {}) };
  });
  if (!options.backfill) return needs;
  const reads = new Map<string, { read: GraphRead; entries: string[] }>();
  for (const d of desired) {
    for (const read of backfillReadsOf(d)) {
      const seen = reads.get(read.reads) ?? { read, entries: [] };
      if (!seen.entries.includes(d.name)) seen.entries.push(d.name);
      reads.set(read.reads, seen);
    }
  }
  for (const { read, entries } of reads.values()) needs.push({ for: `backfill: ${read.reads}`, anyOf: read.permissions, entries });
  return needs;
}

/**
 * A need against a token's roles: `ok` (a role grants it), `missing` (none does, and no resource-specific
 * consent could), or `unverified` (none does, but resource-specific consent in the chat or team may: a token
 * cannot show it). `grant`: the least privileged application permission that would do.
 */
export interface NeedCheck extends PermissionNeed {
  readonly status: 'ok' | 'missing' | 'unverified';
  readonly grantedBy?: string;
  readonly grant?: string;
}

export interface PermissionCheck {
  readonly needs: readonly NeedCheck[];
  /** The fewest application permissions, least privileged, that cover every missing need. */
  readonly toGrant: readonly string[];
}

/** Checks `roles` (a token's `roles` claim) against `needs`; names what is missing and what to grant. */
export function checkPermissions(needs: readonly PermissionNeed[], roles: readonly string[]): PermissionCheck {
  const held = new Map(roles.map((r) => [r.toLowerCase(), r]));
  const checks = needs.map((need): NeedCheck => {
    const grantedBy = need.anyOf.find((p) => held.has(p.toLowerCase()));
    if (grantedBy) return { ...need, status: 'ok', grantedBy: held.get(grantedBy.toLowerCase()) };
    const application = need.anyOf.filter((p) => !isResourceSpecific(p));
    const status = application.length < need.anyOf.length ? 'unverified' : 'missing';
    return { ...need, status, ...(application[0] ? { grant: application[0] } : {}) };
  });
  // The narrowest needs first: a permission chosen for one (Chat.Read.All) often covers a wider one (a user's chats).
  const toGrant: string[] = [];
  for (const need of checks.filter((c) => c.status === 'missing').sort((a, b) => a.anyOf.length - b.anyOf.length)) {
    if (need.anyOf.some((p) => toGrant.includes(p)) || !need.grant) continue;
    toGrant.push(need.grant);
  }
  return { needs: checks, toGrant };
}
