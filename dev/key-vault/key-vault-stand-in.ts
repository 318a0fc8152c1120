import { randomBytes, webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createSelfSignedCertificate } from '../../shared/certificates/self-signed.js';
import { loopbackCertificate } from '../tls/loopback-certificate.js';

/** The Key Vault data-plane roles the stand-in honours (RBAC mode), as infra/ assigns them. */
export type KeyVaultRole = 'Key Vault Secrets User' | 'Key Vault Certificate User' | 'Key Vault Administrator' | 'Key Vault Secrets Officer' | 'Key Vault Certificates Officer';

/** What each role may read: Certificate User includes getSecret, so it can read a certificate's private key. */
const ROLE_READS: Record<KeyVaultRole, readonly ('certificates' | 'secrets')[]> = {
  'Key Vault Secrets User': ['secrets'],
  'Key Vault Certificate User': ['certificates', 'secrets'],
  'Key Vault Administrator': ['certificates', 'secrets'],
  'Key Vault Secrets Officer': ['secrets'],
  // Manages certificates; reading a private key is getSecret, which it does not hold.
  'Key Vault Certificates Officer': ['certificates'],
};

/** What each role may write: a secret's new version (setSecret), a certificate's creation. */
const ROLE_WRITES: Record<KeyVaultRole, readonly ('certificates' | 'secrets')[]> = {
  'Key Vault Secrets User': [],
  'Key Vault Certificate User': [],
  'Key Vault Administrator': ['certificates', 'secrets'],
  'Key Vault Secrets Officer': ['secrets'],
  'Key Vault Certificates Officer': ['certificates'],
};

/** Whether a role name is one of the Key Vault data-plane roles the stand-in honours. */
export function isKeyVaultRole(role: string): role is KeyVaultRole {
  return role in ROLE_READS;
}

export interface KeyVaultStandInOptions {
  /**
   * Check bearer tokens as Key Vault does: signed by this issuer's keys (the managed identity stand-in's JWKS)
   * for `https://vault.azure.net`, and authorized by the roles assigned to the token's `oid` (403
   * ForbiddenByRbac otherwise). Unset: one static token, given as `credential`, opens everything.
   */
  readonly entra?: {
    readonly jwksUrl: string;
    readonly issuer?: string;
    /** Read at each request: a test may change it, as a role assignment that takes effect later. */
    readonly roles: Readonly<Record<string, readonly KeyVaultRole[]>>;
    /** The vault's tenant, which its 401 challenge names as the authority (a vault answers with its own tenant's). */
    readonly tenantId?: string;
  };
}

/**
 * Key Vault's REST protocol on loopback HTTPS, for the real @azure/keyvault-* clients: the 401 challenge
 * on an unauthenticated request, then certificates and secrets by name and version, Key Vault's error
 * bodies for what it does not hold; a secret's new version (PUT) and a self-signed certificate's creation (POST
 * `create`, complete at once, PEM only), as an operator does them. Strict: `api-version` required, the bearer
 * token checked, each role's actions only.
 */
export interface KeyVaultStandIn {
  readonly url: string;
  /** PEM of the TLS certificate, to trust in the clients' `tlsOptions.ca`. */
  readonly tlsCa: string;
  /** The static token's credential, for the mode without `entra` (which refuses it: use the managed identity stand-in's). */
  readonly credential: TokenCredential;
  readonly requests: { method: string; path: string; authorized: boolean }[];
  /** Adds a version of a certificate (DER) with its secret (PEM bundle or base64 PKCS#12); the newest is current. */
  addVersion(name: string, version: { der: Buffer; secret: string; contentType: 'application/x-pem-file' | 'application/x-pkcs12' }): string;
  /** Adds a version of a plain secret (a clientState, a keyed URL); the newest is current. Answers the version. */
  setSecret(name: string, value: string, contentType?: string): string;
  /** Makes the vault answer 503 until told otherwise. */
  down: boolean;
  close(): Promise<void>;
}

const TOKEN = `fake-kv-token-${randomBytes(8).toString('hex')}`;

export async function startKeyVaultStandIn(options: KeyVaultStandInOptions = {}): Promise<KeyVaultStandIn> {
  // The loopback certificate every HTTPS stand-in serves: a process of the Azure-shaped stack trusts it already.
  const tls = await loopbackCertificate();
  const certificates = new Map<string, { version: string; der: Buffer; secret: string; contentType: string; created: number }[]>();
  const secrets = new Map<string, { version: string; value: string; contentType: string | undefined; created: number }[]>();
  const requests: KeyVaultStandIn['requests'] = [];
  const keys = options.entra ? createRemoteJWKSet(new URL(options.entra.jwksUrl)) : undefined;
  const state = { down: false };
  let base = '';

  /** Who a request's token names (its `oid`), or why it is refused; the static token in the mode without `entra`. */
  const callerOf = async (authorization: string | undefined): Promise<{ oid: string } | { refused: string } | undefined> => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    if (!keys || !options.entra) return token === TOKEN ? { oid: 'static' } : { refused: 'AKV10000: Request is missing a Bearer or PoP token.' };
    try {
      const { payload } = await jwtVerify(token, keys, { audience: 'https://vault.azure.net', clockTolerance: 300, ...(options.entra.issuer ? { issuer: options.entra.issuer } : {}) });
      return typeof payload.oid === 'string' ? { oid: payload.oid } : { refused: 'AKV10032: Invalid token: no oid.' };
    } catch (e) {
      return { refused: `AKV10022: Invalid token (${(e as Error).message}).` };
    }
  };
  const mayRead = (oid: string, kind: 'certificates' | 'secrets') => !options.entra || (options.entra.roles[oid] ?? []).some((role) => ROLE_READS[role].includes(kind));
  const mayWrite = (oid: string, kind: 'certificates' | 'secrets') => !options.entra || (options.entra.roles[oid] ?? []).some((role) => ROLE_WRITES[role].includes(kind));
  const now = () => Math.floor(Date.now() / 1000);
  const addSecret = (name: string, value: string, contentType: string | undefined) => {
    const version = randomBytes(16).toString('hex');
    const list = secrets.get(name) ?? [];
    list.push({ version, value, contentType, created: now() });
    secrets.set(name, list);
    return version;
  };
  const addCertificate = (name: string, v: { der: Buffer; secret: string; contentType: string }) => {
    const version = randomBytes(16).toString('hex');
    const list = certificates.get(name) ?? [];
    list.push({ version, der: v.der, secret: v.secret, contentType: v.contentType, created: now() });
    certificates.set(name, list);
    return version;
  };
  const forbidden = (oid: string, action: string, name: string) => ({
    code: 'Forbidden',
    message: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: oid=${oid}\r\nAction: 'Microsoft.KeyVault/vaults/${action}'\r\nResource: '${name}'`,
  });
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };

  const attributesOf = (created: number) => ({ enabled: true, created, updated: created, recoveryLevel: 'Recoverable+Purgeable' });
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://vault');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-keyvault-service-version': '1.9.0', ...headers }).end(JSON.stringify(body));
    const error = (status: number, code: string, message: string, inner?: string) => send(status, { error: { code, message, ...(inner ? { innerError: { code: inner } } : {}) } });
    const body = req.method === 'PUT' || req.method === 'POST' ? await readBody(req) : (req.resume(), {});
    const caller = await callerOf(req.headers.authorization);
    const authorized = caller !== undefined && 'oid' in caller;
    requests.push({ method: req.method ?? '', path: url.pathname, authorized });
    if (state.down) return error(503, 'ServiceUnavailable', 'The vault is unavailable.');
    if (!url.searchParams.get('api-version')) return error(400, 'BadParameter', 'api-version is required.');
    if (!caller || !('oid' in caller)) {
      return send(
        401,
        { error: { code: 'Unauthorized', message: caller?.refused ?? 'AKV10000: Request is missing a Bearer or PoP token.' } },
        {
          'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${options.entra?.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47'}", resource="https://vault.azure.net"`,
        },
      );
    }
    const write = /^\/(?:secrets\/([0-9a-zA-Z-]{1,127})|certificates\/([0-9a-zA-Z-]{1,127})\/(create|pending))\/?$/.exec(url.pathname);
    if (write && (req.method === 'PUT' || req.method === 'POST' || write[3] === 'pending')) {
      const [, secretName, certificateName = '', step] = write;
      if (secretName !== undefined) {
        if (req.method !== 'PUT') return error(405, 'MethodNotAllowed', 'A secret is set with PUT.');
        if (!mayWrite(caller.oid, 'secrets')) {
          const f = forbidden(caller.oid, 'secrets/setSecret/action', secretName);
          return error(403, f.code, f.message, 'ForbiddenByRbac');
        }
        if (typeof body.value !== 'string') return error(400, 'BadParameter', 'The secret value is required.');
        const contentType = typeof body.contentType === 'string' ? body.contentType : undefined;
        const version = addSecret(secretName, body.value, contentType);
        return send(200, { value: body.value, ...(contentType ? { contentType } : {}), id: `${base}/secrets/${secretName}/${version}`, attributes: attributesOf(now()) });
      }
      // Reading an operation is certificates/read (Certificate User holds it); creating is an Officer's.
      if (step === 'pending' ? !mayRead(caller.oid, 'certificates') : !mayWrite(caller.oid, 'certificates')) {
        const f = forbidden(caller.oid, step === 'create' ? 'certificates/create/action' : 'certificates/read', certificateName);
        return error(403, f.code, f.message, 'ForbiddenByRbac');
      }
      // As Key Vault answers: the creation is in progress when POSTed, and the SDK polls `pending` until it is
      // done (here at the first poll), then reads the certificate.
      const operation = (status: 'inProgress' | 'completed') => ({
        id: `${base}/certificates/${certificateName}/pending`,
        issuer: { name: 'Self' },
        cancellation_requested: false,
        status,
        request_id: randomBytes(16).toString('hex'),
        ...(status === 'completed' ? { target: `${base}/certificates/${certificateName}` } : {}),
      });
      if (step === 'pending') return certificates.has(certificateName) ? send(200, operation('completed')) : error(404, 'CertificateNotFound', `Pending certificate not found: ${certificateName}`);
      if (req.method !== 'POST') return error(405, 'MethodNotAllowed', 'A certificate is created with POST.');
      const policy = (body.policy ?? {}) as { secret_props?: { contentType?: string }; issuer?: { name?: string } };
      const contentType = policy.secret_props?.contentType ?? 'application/x-pkcs12';
      if (contentType !== 'application/x-pem-file') return error(400, 'BadParameter', `The stand-in creates PEM certificates only (policy asks for ${contentType}).`);
      if (policy.issuer?.name !== 'Self') return error(400, 'BadParameter', 'The stand-in creates self-signed certificates only (issuer "Self").');
      const created = await createSelfSignedCertificate();
      addCertificate(certificateName, { der: created.certificate.raw, secret: created.pem, contentType });
      return send(202, operation('inProgress'), { location: `${base}/certificates/${certificateName}/pending?api-version=${url.searchParams.get('api-version') ?? ''}` });
    }
    if (req.method !== 'GET') return error(405, 'MethodNotAllowed', `${req.method ?? ''} is not served on ${url.pathname}.`);
    const m = /^\/(certificates|secrets)\/([0-9a-zA-Z-]{1,127})\/?([0-9a-f]{32})?\/?$/.exec(url.pathname);
    if (!m) return error(400, 'BadParameter', `Unsupported path ${url.pathname}.`);
    const [, kind = '', name = '', version] = m;
    if (!mayRead(caller.oid, kind as 'certificates' | 'secrets')) {
      const f = forbidden(caller.oid, kind === 'certificates' ? 'certificates/read' : 'secrets/getSecret/action', name);
      return error(403, f.code, f.message, 'ForbiddenByRbac');
    }
    const plain = kind === 'secrets' ? secrets.get(name) : undefined;
    if (plain) {
      const entry = version ? plain.find((v) => v.version === version) : plain.at(-1);
      if (!entry) return error(404, 'SecretNotFound', `A secret with (name/id) ${name}/${version} was not found in this key vault.`);
      return send(200, {
        value: entry.value,
        ...(entry.contentType ? { contentType: entry.contentType } : {}),
        id: `${base}/secrets/${name}/${entry.version}`,
        attributes: attributesOf(entry.created),
      });
    }
    const versions = certificates.get(name) ?? [];
    const entry = version ? versions.find((v) => v.version === version) : versions.at(-1);
    const notFound = kind === 'certificates' ? 'CertificateNotFound' : 'SecretNotFound';
    if (!entry) return error(404, notFound, `A ${kind.slice(0, -1)} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`);
    const attributes = attributesOf(entry.created);
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
  };
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    serve(req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'InternalError', message: e.message } }));
    });
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
    setSecret: (name, value, contentType) => addSecret(name, value, contentType),
    addVersion: (name, v) => addCertificate(name, v),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
