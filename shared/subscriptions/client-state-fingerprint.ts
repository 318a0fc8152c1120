import { createHash, scryptSync, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Which configured secret a subscription uses: its 1-based position in GRAPH_CLIENT_STATE, or why not known. */
export type ClientStateUse = { readonly position: number } | 'unknown' | 'none';

/** What the app knows of a subscription's secret: Graph's answer (when it gives one) and our recorded fingerprint. */
export interface ClientStateEvidence {
  /** clientState as Graph returned it; Graph's list answers null "for security purposes". */
  readonly clientState?: string | null;
  /** The fingerprint recorded when the app created the subscription. */
  readonly fingerprint?: string;
}

const FORMAT = 'v1.';
/** Fixed salt: fingerprints must compare across instances and restarts; scrypt makes guessing a weak secret slow. */
const SALT = 'teams-change-relay/clientState-fingerprint/v1';
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * A short, non-reversible fingerprint of a clientState secret (scrypt, 12 bytes, base64url), kept in Table
 * storage next to each subscription so that the reconciler knows which secret the subscription was created
 * with, without ever storing the secret.
 */
export function clientStateFingerprint(secret: string): string {
  return FORMAT + scryptSync(secret, SALT, 12, { N: 16384, r: 8, p: 1 }).toString('base64url');
}

/** Returns the 1-based position of `candidate` among `values`, comparing every one in constant time. */
function positionAmong(candidate: string, values: readonly Buffer[]): number {
  const d = digest(candidate);
  let position = 0;
  values.forEach((v, i) => {
    if (timingSafeEqual(d, v) && position === 0) position = i + 1;
  });
  return position;
}

/**
 * The configured clientState secrets (GRAPH_CLIENT_STATE, first = current) and how to tell which of them a
 * subscription uses. Fingerprints are computed once, on first use.
 */
export class ConfiguredClientStates {
  readonly #secrets: readonly string[];
  #secretDigests: Buffer[] | undefined;
  #fingerprintDigests: Buffer[] | undefined;
  #currentFingerprint: string | undefined;

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new ConfigError(['ConfiguredClientStates needs at least one secret (GRAPH_CLIENT_STATE).']);
    this.#secrets = secrets;
  }

  /** The secret new subscriptions get. */
  get current(): string {
    return this.#secrets[0] as string;
  }

  get currentFingerprint(): string {
    this.#currentFingerprint ??= clientStateFingerprint(this.current);
    return this.#currentFingerprint;
  }

  /** Graph's own answer wins when it has one; otherwise the recorded fingerprint; otherwise unknown. */
  useOf(evidence: ClientStateEvidence): ClientStateUse {
    let position: number;
    if (typeof evidence.clientState === 'string' && evidence.clientState.length > 0) {
      this.#secretDigests ??= this.#secrets.map(digest);
      position = positionAmong(evidence.clientState, this.#secretDigests);
    } else if (evidence.fingerprint) {
      this.#fingerprintDigests ??= this.#secrets.map((s, i) => digest(i === 0 ? this.currentFingerprint : clientStateFingerprint(s)));
      position = positionAmong(evidence.fingerprint, this.#fingerprintDigests);
    } else {
      return 'unknown';
    }
    return position > 0 ? { position } : 'none';
  }
}

/** For people: "1 (current)", "2 (previous)", "3", "unknown", "none of the configured". Never the value. */
export function describeClientStateUse(use: ClientStateUse): string {
  if (use === 'unknown') return 'unknown';
  if (use === 'none') return 'none of the configured';
  return use.position === 1 ? '1 (current)' : use.position === 2 ? '2 (previous)' : String(use.position);
}
