/**
 * How long an answer to Graph may take, and how that time is shared out.
 *
 * Graph publishes with an HTTP client that times out after 3 s and counts an answer that took more than
 * 2,900 ms as slow; past 10 % slow answers it delays every notification of the endpoint, from 15 % it drops
 * them for good (learn.microsoft.com/graph/change-notifications-delivery-webhooks, "Throttling"). A fast 503 is
 * not slow (Graph retries it); a late 202 is. So every path answers, 202 or 503, within ANSWER_BUDGET_MS,
 * which leaves 400 ms of margin under Graph's mark.
 */

/** Graph counts an answer that took longer than this as slow. */
export const GRAPH_SLOW_ANSWER_MS = 2900;

/** What the app designs for: every answer, with storage failing, sent within this (the host's part included). */
export const ANSWER_BUDGET_MS = 2500;

/**
 * Kept for what happens outside the receiver's clock: the host's routing of the request to the handler and of
 * the answer back (measured with the local host: docs/reliability.md), TLS and the front end. A cold instance
 * is not in it: the app composes the receiver at host start, not on the first request (docs/reliability.md).
 */
export const HOST_ALLOWANCE_MS = 500;

/** The receiver's own deadline for one request, from its start: it answers 503 rather than go past it. */
export const RECEIVER_DEADLINE_MS = ANSWER_BUDGET_MS - HOST_ALLOWANCE_MS;

/** One fetch of the validation tokens' key set (a token signed by an unknown key, or the 10-minute refresh). */
export const JWKS_FETCH_TIMEOUT_MS = 600;

/** Reading, parsing and checking the body (signatures, clientState) of the largest batch Graph sends. */
export const VERIFY_ALLOWANCE_MS = 200;

/**
 * The longest RECEIVE_STORAGE_TIMEOUT_MS can be: what the receiver's deadline leaves after a key set fetch
 * and the checks. Whatever it is set to, the store gets no more than what is left of the deadline.
 */
export const MAX_STORAGE_TIMEOUT_MS = RECEIVER_DEADLINE_MS - JWKS_FETCH_TIMEOUT_MS - VERIFY_ALLOWANCE_MS;

/** A request's deadline on a monotonic clock. */
export class AnswerDeadline {
  readonly #at: number;
  readonly #clock: () => number;

  constructor(budgetMs: number, clock: () => number = () => performance.now()) {
    this.#clock = clock;
    this.#at = clock() + budgetMs;
  }

  /** Milliseconds left, never below 0. */
  get remainingMs(): number {
    return Math.max(0, Math.floor(this.#at - this.#clock()));
  }

  /** Resolves when `work` settles or the deadline passes, whichever comes first; `work` goes on regardless. */
  async waitFor(work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.remainingMs)));
    try {
      await Promise.race([work.then(noop, noop), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const noop = () => undefined;
