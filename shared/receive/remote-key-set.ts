import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { RelayError } from '../errors.js';

/**
 * The key set's endpoint gave no answer (connection refused or reset, DNS, TLS): not the sender's fault, so
 * the receiver answers 503 and Graph retries. A timeout is jose's own `ERR_JWKS_TIMEOUT`.
 */
export class KeySetUnreachableError extends RelayError {
  constructor(url: string, options: { cause: unknown }) {
    super('ERR_JWKS_UNREACHABLE', `The JSON Web Key Set at ${url} could not be fetched.`, options);
  }
}

export interface RemoteKeySetOptions {
  /** How long one fetch of the key set may take. */
  readonly timeoutMs: number;
  /** An unknown kid refetches the set at most once per cooldown (forged kids cannot make it hammer the endpoint). */
  readonly cooldownMs: number;
}

/**
 * The signing keys of validation tokens, fetched from `url` by jose (cached; refreshed on an unknown kid at
 * most once per cooldown, and every 10 minutes regardless). A fetch that gets no answer throws
 * KeySetUnreachableError instead of fetch's untyped TypeError, so that a verifier can tell "the keys could not
 * be fetched" from any other failure.
 */
export function remoteKeySet(url: URL, options: RemoteKeySetOptions): JWTVerifyGetKey {
  return createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    [customFetch]: (input, init) =>
      fetch(input, init).catch((e: unknown) => {
        // jose turns the abort of its own timeout signal into ERR_JWKS_TIMEOUT: leave that one to it.
        if (e instanceof Error && e.name === 'TimeoutError') throw e;
        throw new KeySetUnreachableError(input, { cause: e });
      }),
  });
}
