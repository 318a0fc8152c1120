import { z } from 'zod';
import { BACKFILL_SCOPE, type BackfillScope } from '../kinds/backfill-scopes.js';
import type { ScopesOrWhyNot } from '../kinds/teams-kind.js';
import { kindNamed } from '../kinds/teams-kinds.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';

export type { BackfillScope } from '../kinds/backfill-scopes.js';

export const BACKFILL_PIECE_SCHEMA = 'teams-change-relay.backfill-piece.v1';

/**
 * One resumable piece of work on the backfill queue: a listing of one scope within a gap's window, from
 * its first page or from the `@odata.nextLink` where the previous piece stopped. A crash or a timeout
 * repeats at most one page; events are de-duplicated by id downstream of that.
 */
export interface BackfillPiece {
  readonly schema: typeof BACKFILL_PIECE_SCHEMA;
  readonly gapId: string;
  /** The desired subscription's name. */
  readonly name: string;
  /** The window, already widened by the margin (ISO times). */
  readonly from: string;
  readonly to: string;
  readonly scope: BackfillScope;
  /** The next page to read, when the piece continues a listing. */
  readonly next?: string;
  /** How many times the piece came back from the host's poison queue and was queued again. */
  readonly requeues?: number;
}

/**
 * The scopes that cover a desired subscription's resource (its kind's backfill, shared/kinds/), or why none
 * can (then the gap is reported to consumers with a resync event instead of being filled).
 */
export function scopesOf(desired: DesiredSubscription): ScopesOrWhyNot {
  const [path = '', query = ''] = desired.resource.split('?', 2);
  const narrowed = [...new URLSearchParams(query).keys()].find((k) => k === '$search' || k === '$filter');
  // A listing cannot be narrowed the same way: reading it back would hand consumers more than they subscribed to.
  if (narrowed) return { unsupported: `the read APIs cannot apply the subscription's ${narrowed}` };
  const kind = kindNamed(desired.catalog.kind);
  return kind.backfill ? kind.backfill.scopesOf(path) : { unsupported: `the backfill reads no ${kind.noun}` };
}

const id = z.string().min(1);
const pieceSchema = z.strictObject({
  schema: z.literal(BACKFILL_PIECE_SCHEMA),
  gapId: id,
  name: id,
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  next: z.url().optional(),
  requeues: z.number().int().min(0).optional(),
  scope: BACKFILL_SCOPE,
});

/** The piece a backfill queue message holds, or undefined when it is not one. */
export function parseBackfillPiece(value: unknown): BackfillPiece | undefined {
  const parsed = pieceSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
