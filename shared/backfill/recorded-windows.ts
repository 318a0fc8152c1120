import { closedGapWindows, type SubscriptionRecord } from '../subscriptions/subscription-records.js';
import { gapIdOf } from './gap-log.js';

/** A closed window without subscription that a subscription record names, and the gap that reads it back. */
export interface RecordedWindow {
  /** The id of its `subscription_recreated` gap. */
  readonly gapId: string;
  readonly from: Date;
  readonly to: Date;
}

/**
 * The windows a record names (see closedGapWindows), each with its gap's id: the detector opens a window whose
 * gap is not recorded, and the gaps' pruning keeps the gap of every window still named, so that the detector
 * never opens it again. One derivation for both, so that they cannot disagree.
 */
export function recordedWindows(r: SubscriptionRecord): RecordedWindow[] {
  return closedGapWindows(r).map((w) => {
    const from = new Date(w.from);
    return { gapId: gapIdOf({ name: r.name, reason: 'subscription_recreated', from: from.toISOString() }), from, to: new Date(w.to) };
  });
}
