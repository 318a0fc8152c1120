import { createRemoteJWKSet, decodeJwt, errors, generateKeyPair, SignJWT, exportSPKI, type JWTVerifyGetKey } from 'jose';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySetUnreachableError, remoteKeySet } from '../../shared/receive/remote-key-set.js';
import { MAX_TOKEN_LIFETIME_MS, RESENT_TOKEN_MAX_EXPIRED_MS, tokenRejectionFor, ValidationTokenVerifier, type TokenVerdict } from '../../shared/receive/validation-tokens.js';
import { APP_ID, TENANT_A, TENANT_B, TENANT_OTHER } from '../helpers/notifications.js';
import { startTokenIssuer, type TokenIssuer } from '../helpers/token-issuer.js';
import { nonEmpty } from '../helpers/non-empty.js';

let issuer: TokenIssuer;
let getKey: JWTVerifyGetKey;
let verifier: ValidationTokenVerifier;

beforeAll(async () => {
  issuer = await startTokenIssuer({ tenantId: TENANT_A, audience: APP_ID });
  getKey = createRemoteJWKSet(new URL(issuer.jwksUrl));
  verifier = new ValidationTokenVerifier({ appId: APP_ID, tenantIds: new Set([TENANT_A, TENANT_B]), getKey });
});
afterAll(() => issuer.close());

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function rejected(verdict: TokenVerdict): string {
  expect(verdict.ok).toBe(false);
  return verdict.ok ? 'accepted' : verdict.reason;
}

describe('ValidationTokenVerifier', () => {
  it('accepts a token with the v1 issuer and gives its tenant', async () => {
    const verdict = await verifier.verify(await issuer.sign());
    expect(verdict).toMatchObject({ ok: true, tenantId: TENANT_A });
  });

  it('accepts a token with the v2 issuer', async () => {
    expect(await verifier.verify(await issuer.sign({ issuer: 'v2', tenantId: TENANT_B }))).toMatchObject({ ok: true, tenantId: TENANT_B });
  });

  it("reads the caller from the claim of the token's version: appid in v1, azp in v2", async () => {
    const GCT = '0bf30f3b-4a52-48df-9a82-234910c4a086';
    expect(await verifier.verify(await issuer.sign({ issuer: 'v1' }))).toMatchObject({ ok: true });
    expect(await verifier.verify(await issuer.sign({ issuer: 'v2' }))).toMatchObject({ ok: true });
    // A v1 token without appid, or a v2 token without azp, is refused whatever the other claim says.
    expect(rejected(await verifier.verify(await issuer.sign({ issuer: 'v1', appid: null, azp: GCT })))).toBe('token_wrong_app');
    expect(rejected(await verifier.verify(await issuer.sign({ issuer: 'v2', azp: null, appid: GCT })))).toBe('token_wrong_app');
    expect(rejected(await verifier.verify(await issuer.sign({ issuer: 'v2', azp: '99999999-9999-4999-8999-999999999999' })))).toBe('token_wrong_app');
  });

  it('refuses an expired token', async () => {
    expect(rejected(await verifier.verify(await issuer.sign({ issuedAt: -3900, notBefore: -3900, expiresIn: -300 })))).toBe('token_expired');
  });

  it("refuses an expired token that is Graph's in every other respect, saying when it was valid", async () => {
    for (const version of ['v1', 'v2']) {
      // Graph's tokens live an hour: this one was issued two hours ago.
      const token = await issuer.sign({ issuer: version, tenantId: TENANT_B, issuedAt: -7200, notBefore: -7300, expiresIn: -3600 });
      const { nbf, exp } = decodeJwt(token);
      expect(await verifier.verify(token)).toEqual({ ok: false, reason: 'token_expired', retryable: false, expired: { tenantId: TENANT_B, validFromMs: nbf! * 1000, expiresAtMs: exp! * 1000 } });
    }
  });

  it('takes an expired token without iat or nbf to have been valid for the longest lifetime Entra gives', async () => {
    const token = await issuer.sign({ issuedAt: null, notBefore: null, expiresIn: -3600 });
    const exp = decodeJwt(token).exp! * 1000;
    expect(await verifier.verify(token)).toMatchObject({ reason: 'token_expired', expired: { tenantId: TENANT_A, validFromMs: exp - MAX_TOKEN_LIFETIME_MS, expiresAtMs: exp } });
  });

  it("refuses a token expired longer ago than Graph retries as token_expired_too_long, saying nothing of when it was valid, however Graph's it is", async () => {
    // Graph retries for at most 4 hours with the token it first sent: one expired 5 hours ago is a replay.
    const verdict = await verifier.verify(await issuer.sign({ issuedAt: -6 * 3600, notBefore: -6 * 3600, expiresIn: -5 * 3600 }));
    expect(verdict).toEqual({ ok: false, reason: 'token_expired_too_long', retryable: false });
    // The bound, and the control: one expired 4 hours ago (within the clock skew allowed past it) is a resend.
    expect(RESENT_TOKEN_MAX_EXPIRED_MS).toBe(4.25 * 3600_000);
    expect(await verifier.verify(await issuer.sign({ issuedAt: -5 * 3600, notBefore: -5 * 3600, expiresIn: -4 * 3600 }))).toMatchObject({ reason: 'token_expired', expired: { tenantId: TENANT_A } });
  });

  it('takes an expired token to have been valid no earlier than its exp less the longest lifetime Entra gives, whatever its iat and nbf say', async () => {
    const token = await issuer.sign({ issuedAt: -30 * 86400, notBefore: -30 * 86400, expiresIn: -3600 });
    const exp = decodeJwt(token).exp! * 1000;
    expect(await verifier.verify(token)).toMatchObject({ reason: 'token_expired', expired: { validFromMs: exp - MAX_TOKEN_LIFETIME_MS, expiresAtMs: exp } });
  });

  it('refuses an expired token wrong in any other respect for that, saying nothing of when it was valid', async () => {
    const expired = { issuedAt: -7200, notBefore: -7200, expiresIn: -3600 };
    const other = await generateKeyPair('RS256');
    const cases: [Parameters<TokenIssuer['sign']>[0], string][] = [
      [{ privateKey: other.privateKey }, 'token_bad_signature'],
      [{ privateKey: other.privateKey, kid: 'unknown' }, 'token_unknown_key'],
      [{ audience: '99999999-9999-4999-8999-999999999999' }, 'token_wrong_audience'],
      [{ appid: '99999999-9999-4999-8999-999999999999' }, 'token_wrong_app'],
      [{ issuer: `https://evil.example.com/${TENANT_A}/` }, 'token_wrong_issuer'],
      [{ tenantId: TENANT_OTHER }, 'token_tenant_not_allowed'],
      [{ notBefore: -3500 }, 'token_not_yet_valid'], // valid only after it expired
    ];
    for (const [options, reason] of cases) {
      const verdict = await verifier.verify(await issuer.sign({ ...expired, ...options }));
      expect({ options, reason: rejected(verdict), expired: 'expired' in verdict }).toEqual({ options, reason, expired: false });
    }
    // The control: the same token right in every other respect says when it was valid.
    expect(await verifier.verify(await issuer.sign(expired))).toMatchObject({ reason: 'token_expired', expired: { tenantId: TENANT_A } });
  });

  it('tolerates a small clock skew', async () => {
    expect((await verifier.verify(await issuer.sign({ expiresIn: -20 }))).ok).toBe(true);
  });

  it('refuses a token not yet valid', async () => {
    expect(rejected(await verifier.verify(await issuer.sign({ notBefore: 600 })))).toBe('token_not_yet_valid');
  });

  it('refuses a token for another audience', async () => {
    expect(rejected(await verifier.verify(await issuer.sign({ audience: '99999999-9999-4999-8999-999999999999' })))).toBe('token_wrong_audience');
  });

  it('refuses a token whose appid/azp is not Graph Change Tracking', async () => {
    expect(rejected(await verifier.verify(await issuer.sign({ appid: '99999999-9999-4999-8999-999999999999' })))).toBe('token_wrong_app');
    expect(rejected(await verifier.verify(await issuer.sign({ appid: null })))).toBe('token_wrong_app');
  });

  it('refuses a token whose issuer is not a Microsoft issuer of its tenant', async () => {
    expect(rejected(await verifier.verify(await issuer.sign({ issuer: `https://evil.example.com/${TENANT_A}/` })))).toBe('token_wrong_issuer');
    expect(rejected(await verifier.verify(await issuer.sign({ tid: TENANT_B })))).toBe('token_wrong_issuer');
  });

  it('refuses a token of a tenant outside the allow-list', async () => {
    expect(rejected(await verifier.verify(await issuer.sign({ tenantId: TENANT_OTHER })))).toBe('token_tenant_not_allowed');
  });

  it('refuses a token signed by another key under a published kid', async () => {
    const other = await generateKeyPair('RS256');
    expect(rejected(await verifier.verify(await issuer.sign({ privateKey: other.privateKey })))).toBe('token_bad_signature');
  });

  it('refuses a token signed with an unknown kid', async () => {
    const other = await generateKeyPair('RS256');
    expect(rejected(await verifier.verify(await issuer.sign({ privateKey: other.privateKey, kid: 'unknown' })))).toBe('token_unknown_key');
  });

  it('refuses alg none', async () => {
    const valid = await issuer.sign();
    const [, payload] = valid.split('.');
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    expect(rejected(await verifier.verify(none))).toMatch(/token_bad_algorithm|token_malformed/);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const valid = await issuer.sign();
    const [, payload] = valid.split('.');
    const header = b64url({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' });
    const sig = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
    expect(rejected(await verifier.verify(`${header}.${payload}.${sig}`))).toBe('token_bad_algorithm');
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(pem));
    expect(rejected(await verifier.verify(hs))).toBe('token_bad_algorithm');
  });

  it('refuses garbage', async () => {
    expect(rejected(await verifier.verify('not-a-token'))).toBe('token_malformed');
  });

  it('says the keys are unavailable (retryable) when the JWKS cannot be fetched', async () => {
    const offline = new ValidationTokenVerifier({
      appId: APP_ID,
      tenantIds: new Set([TENANT_A]),
      getKey: remoteKeySet(new URL('http://127.0.0.1:9/keys'), { timeoutMs: 1000, cooldownMs: 30_000 }),
    });
    const verdict = await offline.verify(await issuer.sign());
    expect(verdict).toEqual({ ok: false, reason: 'token_keys_unavailable', retryable: true });
  });

  it('rethrows an error that is not a known token failure instead of calling the keys unavailable', async () => {
    const bug = new Error('a bug in the key resolver');
    const broken = new ValidationTokenVerifier({ appId: APP_ID, tenantIds: new Set([TENANT_A]), getKey: () => Promise.reject(bug) });
    await expect(broken.verify(await issuer.sign())).rejects.toBe(bug);
    // A plain createRemoteJWKSet against a closed port fails with fetch's untyped TypeError: not taken for
    // unavailable keys either (production wires remoteKeySet, which names that failure).
    const untyped = new ValidationTokenVerifier({ appId: APP_ID, tenantIds: new Set([TENANT_A]), getKey: createRemoteJWKSet(new URL('http://127.0.0.1:9/keys')) });
    await expect(untyped.verify(await issuer.sign())).rejects.toBeInstanceOf(TypeError);
  });

  it('verifies each distinct token of a batch once and remembers successes until they expire', async () => {
    let lookups = 0;
    const counting: JWTVerifyGetKey = (header, token) => {
      lookups++;
      return getKey(header, token);
    };
    const v = new ValidationTokenVerifier({ appId: APP_ID, tenantIds: new Set([TENANT_A, TENANT_B]), getKey: counting });
    const a = await issuer.sign();
    const b = await issuer.sign({ tenantId: TENANT_B });
    const verdicts = await v.verifyAll([a, b, a, a, b]);
    expect(verdicts.size).toBe(2);
    expect(lookups).toBe(2);
    await v.verifyAll([a, b]);
    expect(lookups).toBe(2);
  });

  it('forgets a remembered token once it has expired', async () => {
    let now = Date.now();
    let lookups = 0;
    const v = new ValidationTokenVerifier({
      appId: APP_ID,
      tenantIds: new Set([TENANT_A]),
      getKey: (h, t) => (lookups++, getKey(h, t)),
      now: () => now,
    });
    const token = await issuer.sign({ expiresIn: 120 });
    expect((await v.verify(token)).ok).toBe(true);
    now += 10 * 60_000;
    expect(rejected(await v.verify(token))).toBe('token_expired');
    expect(lookups).toBe(2);
  });
});

describe('ValidationTokenVerifier across a signing key rotation (remote JWKS over loopback)', () => {
  /** Runs `test` with its own JWKS server (so that it can rotate keys and count fetches) and a verifier of it. */
  const withOwnJwks = async (cooldownDuration: number, test: (jwks: TokenIssuer, v: ValidationTokenVerifier) => Promise<void>) => {
    const jwks = await startTokenIssuer({ tenantId: TENANT_A, audience: APP_ID });
    try {
      const getKey = createRemoteJWKSet(new URL(jwks.jwksUrl), { cooldownDuration });
      await test(jwks, new ValidationTokenVerifier({ appId: APP_ID, tenantIds: new Set([TENANT_A]), getKey }));
    } finally {
      await jwks.close();
    }
  };

  it('accepts a token signed by a key published after the key set was fetched, fetching the set once more', () =>
    withOwnJwks(0, async (jwks, v) => {
      expect((await v.verify(await jwks.sign())).ok).toBe(true);
      expect(jwks.jwksRequests).toBe(1);
      await jwks.publishKey('rotated-key');
      expect(await v.verify(await jwks.sign({ kid: 'rotated-key' }))).toMatchObject({ ok: true, tenantId: TENANT_A });
      expect(jwks.jwksRequests).toBe(2);
      expect((await v.verify(await jwks.sign({ kid: 'rotated-key' }))).ok).toBe(true);
      expect(jwks.jwksRequests).toBe(2);
    }));

  it('calls a kid still unknown retryable (never a reason to discard), and fetches the set at most once per cooldown', () =>
    withOwnJwks(3_600_000, async (jwks, v) => {
      expect((await v.verify(await jwks.sign())).ok).toBe(true);
      // Published after the fetch, within the cooldown: retryable, so the receiver answers 503 and Graph retries.
      await jwks.publishKey('rotated-key');
      expect(await v.verify(await jwks.sign({ kid: 'rotated-key' }))).toEqual({ ok: false, reason: 'token_unknown_key', retryable: true });
      // A forger's random kids, one after another and all at once: no fetch at all within the cooldown.
      const other = await generateKeyPair('RS256');
      const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => jwks.sign({ kid: `forged-${i}`, privateKey: other.privateKey })));
      for (const token of forged.slice(0, 25)) expect(await v.verify(token)).toMatchObject({ reason: 'token_unknown_key', retryable: true });
      const verdicts = await v.verifyAll(forged.slice(25));
      expect(nonEmpty([...verdicts.values()]).every((x) => !x.ok && x.reason === 'token_unknown_key' && x.retryable)).toBe(true);
      expect(jwks.jwksRequests).toBe(1);
    }));

  it('after the cooldown, a burst of unknown kids costs one fetch, and a kid absent from the new set stays retryable', () =>
    withOwnJwks(200, async (jwks, v) => {
      expect((await v.verify(await jwks.sign())).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      const other = await generateKeyPair('RS256');
      const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => jwks.sign({ kid: `forged-${i}`, privateKey: other.privateKey })));
      const verdicts = await v.verifyAll(forged);
      expect(nonEmpty([...verdicts.values()]).every((x) => !x.ok && x.reason === 'token_unknown_key' && x.retryable)).toBe(true);
      expect(jwks.jwksRequests).toBe(2);
    }));
});

describe("tokenRejectionFor: each of jose's failures and the rejection it means", () => {
  const payload = {};
  const cases: [string, unknown, string, boolean][] = [
    ['expired', new errors.JWTExpired('exp', payload, 'exp', 'check_failed'), 'token_expired', false],
    ['nbf in the future', new errors.JWTClaimValidationFailed('nbf', payload, 'nbf', 'check_failed'), 'token_not_yet_valid', false],
    ['iat in the future', new errors.JWTClaimValidationFailed('iat', payload, 'iat', 'check_failed'), 'token_not_yet_valid', false],
    ['another audience', new errors.JWTClaimValidationFailed('aud', payload, 'aud', 'check_failed'), 'token_wrong_audience', false],
    ['a required claim missing', new errors.JWTClaimValidationFailed('iss', payload, 'iss', 'missing'), 'token_malformed', false],
    ['an algorithm not allowed', new errors.JOSEAlgNotAllowed(), 'token_bad_algorithm', false],
    ['an algorithm not supported', new errors.JOSENotSupported(), 'token_bad_algorithm', false],
    ['a bad signature', new errors.JWSSignatureVerificationFailed(), 'token_bad_signature', false],
    ['no kid, no candidate key verifies', new errors.JWKSMultipleMatchingKeys(), 'token_bad_signature', false],
    ['a kid not in the key set', new errors.JWKSNoMatchingKey(), 'token_unknown_key', true],
    ['a malformed JWS', new errors.JWSInvalid(), 'token_malformed', false],
    ['a malformed JWT', new errors.JWTInvalid(), 'token_malformed', false],
    ['a malformed JWK', new errors.JWKInvalid(), 'token_malformed', false],
    ['a key set fetch that timed out', new errors.JWKSTimeout(), 'token_keys_unavailable', true],
    ['a key set answer other than 200 or not JSON', new errors.JOSEError('Expected 200 OK'), 'token_keys_unavailable', true],
    ['a document that is no key set', new errors.JWKSInvalid(), 'token_keys_unavailable', true],
    ['a key set endpoint that gave no answer', new KeySetUnreachableError('http://127.0.0.1:9/keys', { cause: new TypeError('fetch failed') }), 'token_keys_unavailable', true],
  ];
  it.each(cases)('%s', (_what, error, reason, retryable) => {
    expect(tokenRejectionFor(error)).toEqual({ reason, retryable });
  });

  it('rethrows anything else: a JWE failure, a TypeError, a plain Error', () => {
    for (const e of [new errors.JWEDecryptionFailed(), new errors.JWEInvalid(), new TypeError('fetch failed'), new Error('bug')]) {
      expect(() => tokenRejectionFor(e)).toThrow(e);
    }
  });
});

describe('ValidationTokenVerifier with a key set endpoint that misbehaves (loopback HTTP)', () => {
  /** A key set endpoint that answers every request with `answer`; undefined: accepts and never answers. */
  const withEndpoint = async (answer: { status: number; body: string } | undefined, test: (url: URL) => Promise<void>) => {
    const server: Server = createServer((_req, res) => {
      if (answer) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await test(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  };
  const verdictFrom = async (url: URL) =>
    new ValidationTokenVerifier({ appId: APP_ID, tenantIds: new Set([TENANT_A]), getKey: remoteKeySet(url, { timeoutMs: 500, cooldownMs: 30_000 }) }).verify(await issuer.sign());
  const unavailable = { ok: false, reason: 'token_keys_unavailable', retryable: true };

  it('a 500 answer: keys unavailable', () => withEndpoint({ status: 500, body: '{}' }, async (url) => expect(await verdictFrom(url)).toEqual(unavailable)));
  it('an answer that is not JSON: keys unavailable', () => withEndpoint({ status: 200, body: '<html>' }, async (url) => expect(await verdictFrom(url)).toEqual(unavailable)));
  it('JSON that is no key set: keys unavailable', () => withEndpoint({ status: 200, body: '{"keys":1}' }, async (url) => expect(await verdictFrom(url)).toEqual(unavailable)));
  it('no answer within the fetch timeout: keys unavailable', () => withEndpoint(undefined, async (url) => expect(await verdictFrom(url)).toEqual(unavailable)));
});
