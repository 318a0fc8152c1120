import { resourceOf } from './notification-router.js';
import type { ChangeEvent } from './teams-directory.js';

/** One change the simulated Teams made, as the simulator itself records it (the chaos ledger's truth). */
export interface RecordedChange {
  /** Order of the changes in this simulator. */
  readonly seq: number;
  readonly kind: ChangeEvent['kind'];
  /**
   * The tenant whose directory the change happened in (a cross-tenant chat's: the tenant it was created in).
   * The simulator sets it on every change; a ledger written by hand may leave it out.
   */
  readonly tenantId?: string;
  readonly changeType: string;
  /** The notification's `resource` for this change (Graph's path of the changed resource). */
  readonly resource: string;
  /**
   * The resource's version after the change: a message's `etag`, a chat's `lastUpdatedDateTime`; null for a
   * member (Graph gives memberships no version).
   */
  readonly version: string | null;
  /** Simulated time of the change (ISO). */
  readonly at: string;
  /** Wall-clock time of the change (ms since the epoch), comparable with the app's own clock. */
  readonly wallMs: number;
  /** Set for a change of one user's view of a chat (hiding), notified only to that user's user-specific subscriptions. */
  readonly userSpecificFor?: string;
  /**
   * Set for a membership change that left a system event message in the chat's history (a backfill reads it
   * back): that message's time, the `time` of the event read back (simulated, a moment before `at`).
   */
  readonly historyAt?: string;
}

const versionOf = (event: ChangeEvent): string | null => {
  switch (event.kind) {
    case 'chat':
      return event.chat.lastUpdatedDateTime;
    case 'member':
      return null;
    default:
      return String(Date.parse(event.message.lastModifiedDateTime));
  }
};

/** Every change the simulated Teams made, in order, whether or not any subscription was told. */
export class ChangeLog {
  readonly changes: RecordedChange[] = [];
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  record(event: ChangeEvent, tenantId: string): void {
    this.changes.push({
      seq: this.changes.length + 1,
      kind: event.kind,
      tenantId,
      changeType: event.changeType,
      resource: resourceOf(event).resource,
      version: versionOf(event),
      at: new Date(this.#now()).toISOString(),
      wallMs: Date.now(),
      ...(event.kind === 'chat' && event.userSpecificFor !== undefined ? { userSpecificFor: event.userSpecificFor } : {}),
      ...(event.kind === 'member' && event.historyAt !== undefined ? { historyAt: event.historyAt } : {}),
    });
  }
}
