import { RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EndpointCheckResult } from './endpoint-check.js';

const MINUTE = 60_000;

/**
 * Graph's validation handshake against our own URLs, run before an entry's subscription is created, so that a
 * wrong key or an unreachable app is reported by name instead of as Graph's generic 400; or why it is off
 * (SUBSCRIPTIONS_CHECK_ENDPOINTS=false), logged once, at the first creation without it.
 */
export type EndpointCheck = { readonly run: () => Promise<readonly EndpointCheckResult[]> } | { readonly off: string };

/** Our notification or lifecycle URL would fail Graph's validation handshake: nothing is created. */
export class EndpointCheckFailedError extends RelayError {
  constructor(failed: readonly EndpointCheckResult[]) {
    super('ERR_ENDPOINT_CHECK', `Graph's validation handshake would fail: ${failed.map((r) => `${r.name} ${r.url}: ${r.failure} (${r.detail})`).join('; ')}`);
  }
}

/** The reconciler's check before a create: the handshake's results are reused for a minute. */
export class PreCreateCheck {
  readonly #check: EndpointCheck | undefined;
  readonly #now: () => number;
  readonly #logger: Logger;
  #endpoints: { at: number; results: readonly EndpointCheckResult[] } | undefined;
  #offLogged = false;

  constructor(check: EndpointCheck | undefined, now: () => number, logger: Logger) {
    this.#check = check;
    this.#now = now;
    this.#logger = logger;
  }

  /** Throws EndpointCheckFailedError when an endpoint would fail the handshake; logs once that the check is off. */
  async pass(): Promise<void> {
    const check = this.#check;
    if (check && 'run' in check) {
      if (!this.#endpoints || this.#now() - this.#endpoints.at > MINUTE) this.#endpoints = { at: this.#now(), results: await check.run() };
      const failed = this.#endpoints.results.filter((r) => !r.ok);
      if (failed.length > 0) throw new EndpointCheckFailedError(failed);
    } else if (check && !this.#offLogged) {
      this.#offLogged = true;
      this.#logger.info('subscriptions.endpoint_check_off', { reason: check.off });
    }
  }
}
