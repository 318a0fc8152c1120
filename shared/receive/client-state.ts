import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks a notification's clientState against the configured secrets in constant time. Each candidate is
 * hashed first so that lengths do not leak, and every secret is compared (no early exit), so the time
 * does not tell which secret matched either. Several secrets allow a rotation without downtime.
 */
export class ClientStateVerifier {
  readonly #secretDigests: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new ConfigError(['ClientStateVerifier needs at least one secret (GRAPH_CLIENT_STATE).']);
    this.#secretDigests = secrets.map(digest);
  }

  matches(candidate: string | null | undefined): boolean {
    const d = digest(candidate ?? '');
    let match = false;
    for (const secret of this.#secretDigests) {
      match = timingSafeEqual(d, secret) || match;
    }
    return match && typeof candidate === 'string' && candidate.length > 0;
  }
}
