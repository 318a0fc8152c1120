import { randomBytes, webcrypto, createPrivateKey } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import * as x509 from '@peculiar/x509';
import { nodeWebCrypto } from '../../shared/certificates/self-signed.js';

/**
 * Key Vault's REST protocol on loopback HTTPS, for the real @azure/keyvault-* clients: the 401 challenge
 * on an unauthenticated request, then certificates and secrets by name and version, Key Vault's error
 * bodies for what it does not hold. Strict: GET only, `api-version` required, the bearer token checked.
 */
export interface FakeKeyVault {
  readonly url: string;
  /** PEM of the TLS certificate, to trust in the clients' `tlsOptions.ca`. */
  readonly tlsCa: string;
  readonly credential: TokenCredential;
  readonly requests: { method: string; path: string; authorized: boolean }[];
  /** Adds a version of a certificate (DER) with its secret (PEM bundle or base64 PKCS#12); the newest is current. */
  addVersion(name: string, version: { der: Buffer; secret: string; contentType: 'application/x-pem-file' | 'application/x-pkcs12' }): string;
  /** Makes the vault answer 503 until told otherwise. */
  down: boolean;
  close(): Promise<void>;
}

const TOKEN = `fake-kv-token-${randomBytes(8).toString('hex')}`;

/** A self-signed TLS certificate for 127.0.0.1 (PEM certificate and key), for loopback HTTPS fakes. */
export async function tlsCertificate(): Promise<{ cert: string; key: string }> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=127.0.0.1',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]), new x509.BasicConstraintsExtension(true)],
    },
    nodeWebCrypto,
  );
  const key = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' });
  return { cert: cert.toString('pem'), key: key.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

export async function startFakeKeyVault(): Promise<FakeKeyVault> {
  const tls = await tlsCertificate();
  const certificates = new Map<string, { version: string; der: Buffer; secret: string; contentType: string; created: number }[]>();
  const requests: FakeKeyVault['requests'] = [];
  const state = { down: false };
  let base = '';

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://vault');
    const authorized = req.headers.authorization === `Bearer ${TOKEN}`;
    requests.push({ method: req.method ?? '', path: url.pathname, authorized });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-keyvault-service-version': '1.9.0', ...headers }).end(JSON.stringify(body));
    const error = (status: number, code: string, message: string) => send(status, { error: { code, message } });
    req.resume();
    if (state.down) return error(503, 'ServiceUnavailable', 'The vault is unavailable.');
    if (!url.searchParams.get('api-version')) return error(400, 'BadParameter', 'api-version is required.');
    if (!authorized) {
      return send(
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        {
          'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"',
        },
      );
    }
    if (req.method !== 'GET') return error(405, 'MethodNotAllowed', 'Only GET is served.');
    const m = /^\/(certificates|secrets)\/([0-9a-zA-Z-]{1,127})\/?([0-9a-f]{32})?\/?$/.exec(url.pathname);
    if (!m) return error(400, 'BadParameter', `Unsupported path ${url.pathname}.`);
    const [, kind = '', name = '', version] = m;
    const versions = certificates.get(name) ?? [];
    const entry = version ? versions.find((v) => v.version === version) : versions.at(-1);
    const notFound = kind === 'certificates' ? 'CertificateNotFound' : 'SecretNotFound';
    if (!entry) return error(404, notFound, `A ${kind.slice(0, -1)} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`);
    const attributes = { enabled: true, created: entry.created, updated: entry.created, recoveryLevel: 'Recoverable+Purgeable' };
    if (kind === 'certificates') {
      return send(200, {
        id: `${base}/certificates/${name}/${entry.version}`,
        kid: `${base}/keys/${name}/${entry.version}`,
        sid: `${base}/secrets/${name}/${entry.version}`,
        x5t: Buffer.from(webcrypto.getRandomValues(new Uint8Array(20))).toString('base64url'),
        cer: entry.der.toString('base64'),
        attributes,
        policy: { id: `${base}/certificates/${name}/policy`, secret_props: { contentType: entry.contentType }, attributes },
      });
    }
    return send(200, { value: entry.secret, contentType: entry.contentType, id: `${base}/secrets/${name}/${entry.version}`, kid: `${base}/keys/${name}/${entry.version}`, managed: true, attributes });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    tlsCa: tls.cert,
    credential: { getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }) },
    requests,
    get down() {
      return state.down;
    },
    set down(d) {
      state.down = d;
    },
    addVersion(name, v) {
      const version = randomBytes(16).toString('hex');
      const list = certificates.get(name) ?? [];
      list.push({ version, der: v.der, secret: v.secret, contentType: v.contentType, created: Math.floor(Date.now() / 1000) });
      certificates.set(name, list);
      return version;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
