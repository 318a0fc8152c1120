/**
 * The copies of events in one v2 message so far (two subscriptions' notifications of one change, or a
 * redelivery): for each event id, the queues an earlier copy in the message has claimed. A later copy
 * claims only the others, under the same de-duplication owner, so two copies of one event in a request go
 * out once to each queue.
 */
export class BatchCopies {
  readonly #messageId: string;
  readonly #claimed = new Map<string, Set<string>>();

  /** `messageId`: the incoming message's id, the same on every retry of it. */
  constructor(messageId: string) {
    this.#messageId = messageId;
  }

  /** The queues of `queues` no earlier copy of the event claimed, claimed now for this copy (none: a duplicate). */
  claim(eventId: string, queues: readonly string[]): string[] {
    const claimed = this.#claimed.get(eventId) ?? new Set<string>();
    const mine = queues.filter((q) => !claimed.has(q));
    for (const q of mine) claimed.add(q);
    this.#claimed.set(eventId, claimed);
    return mine;
  }

  /** The de-duplication owner of every copy of the event in this message, whichever copy gets there first. */
  owner(eventId: string): string {
    return `${this.#messageId}@${eventId}`;
  }
}
