import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUES, EVENT_QUEUES, graphGivesUpAfterMs, WORK_QUEUES } from '../../dev/chaos/chaos-config.js';

describe('the chaos run settings', () => {
  it("times Graph's last attempt as retries after 1, 2, 4… minutes × scale, none past four hours × scale", () => {
    // 1 + 2 + … + 64 = 127 minutes; the next retry (128 minutes later) would fall past 240.
    expect(graphGivesUpAfterMs(1)).toBe(127 * 60_000);
    expect(graphGivesUpAfterMs(0.02)).toBe(127 * 60_000 * 0.02);
  });

  it("reads the app's queues from its registries: the kinds' default queues, its dead letters and poison queues, its work", () => {
    expect(EVENT_QUEUES).toEqual(['teams-chats', 'teams-chat-members', 'teams-chat-messages', 'teams-channel-messages']);
    expect(DEAD_LETTER_QUEUES).toEqual(['graph-notifications-deadletter', 'graph-notifications-poison', 'graph-lifecycle-poison', 'graph-backfill-poison']);
    expect(WORK_QUEUES).toEqual(['graph-notifications', 'graph-lifecycle', 'graph-backfill', 'graph-notifications-poison', 'graph-lifecycle-poison', 'graph-backfill-poison']);
  });
});
