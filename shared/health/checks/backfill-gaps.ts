import type { Gap } from '../../backfill/gap-log.js';
import { ok, warn, type SelfCheck } from '../self-check.js';

export interface BackfillGapsSources {
  readonly gaps: { list(filter: { unfinished: true }): Promise<readonly Gap[]> };
  /** HEALTH_GAP_OPEN_MINUTES */
  readonly openMinutes: number;
}

/** A backfill gap not yet closed after `openMinutes`: its window's changes have not all been read back. */
export function backfillGapsCheck(s: BackfillGapsSources): SelfCheck {
  return {
    name: 'backfill_gaps',
    run: async (now) => {
      const open = await s.gaps.list({ unfinished: true });
      const ages = open.map((g) => ({ g, seconds: Math.max(0, Math.round((now.getTime() - Date.parse(g.openedAt)) / 1000)) })).filter((a) => Number.isFinite(a.seconds));
      const oldest = ages.reduce((a, b) => (b.seconds > a ? b.seconds : a), 0);
      const gauges = [{ name: 'relay.backfill.oldest_open_gap_seconds' as const, value: oldest }];
      const late = ages.filter((a) => a.seconds > s.openMinutes * 60);
      if (late.length === 0) return { ...ok(open.length ? `${open.length} gap${open.length === 1 ? '' : 's'} being filled, none open over ${s.openMinutes} min` : 'no gap open'), gauges };
      return {
        gauges,
        ...warn(
          `${late.length} backfill gap${late.length === 1 ? '' : 's'} open for over ${s.openMinutes} min: ${late
            .slice(0, 5)
            .map((a) => `${a.g.name} ${a.g.reason} ${a.g.from}…${a.g.to} (${a.g.status})`)
            .join('; ')}`,
          "Run `npm run subscriptions -- status` for each gap's progress and note; a gap held by Graph's throttling or a missing permission closes once that clears (docs/backfill.md).",
        ),
      };
    },
  };
}
