import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { answerRefusal, type StorageRefusal } from './storage-refusal.js';
import { actionOf, rolesAllow, type StorageRole, type StorageService } from './storage-roles.js';

const SERVICES: readonly StorageService[] = ['blob', 'queue', 'table'];

export interface StorageRoleGateOptions {
  /** The storage account the gate serves (the first path segment, in Azurite's path style). */
  readonly account: string;
  /** The tenant of the account: the bearer challenge names it, and tokens must be issued by it. */
  readonly tenantId: string;
  /** Where the keys that sign the Entra stand-in's tokens are published. */
  readonly jwksUrl: string;
  /** The issuer tokens must name; unset: Entra's v1 or v2 issuer of `tenantId`. */
  readonly issuer?: string;
  /** The storage roles assigned to each principal (a token's `oid`), as role assignments on the account give them. */
  readonly roles: Readonly<Record<string, readonly StorageRole[]>>;
  /** Where Azurite listens, by service (HTTPS, `--oauth basic`), and the certificate it serves, to trust. */
  readonly upstream: { readonly host: string; readonly ports: Readonly<Record<StorageService, number>>; readonly ca: string };
  /** What the gate serves (the loopback certificate). */
  readonly tls: { readonly cert: string; readonly key: string };
}

/** One request the gate answered: its refusal's code, or the status and error code Azurite answered. */
export interface GateRequest {
  readonly service: StorageService;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly code?: string;
}

export interface StorageRoleGate {
  /** Each service's URL, `https://127.0.0.1:<port>/<account>`: what `AzureWebJobsStorage__<service>ServiceUri` takes. */
  readonly serviceUris: Readonly<Record<StorageService, string>>;
  readonly requests: readonly GateRequest[];
  close(): Promise<void>;
}

/** Azure's AuthenticationErrorDetail for why jose refused a token. */
function detailOf(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'Lifetime validation failed. The token is expired.';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return 'Audience validation failed. Audience did not match.';
    if (e.claim === 'iss') return 'Issuer validation failed. Issuer did not match.';
    if (e.claim === 'nbf') return 'Lifetime validation failed. The token is not yet valid.';
  }
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey) return 'Signature validation failed. Signature is invalid.';
  return 'Signature validation failed. The token is malformed.';
}

/**
 * Azure Storage's authorization in front of Azurite, one HTTPS listener per service: a storage account with
 * shared key access turned off, reached by Entra tokens and data-plane roles only. Refused, as Azure answers:
 * a SharedKey or SharedKeyLite header and an account or service SAS, 403 KeyBasedAuthenticationNotPermitted;
 * no credentials, 401 NoAuthenticationInformation; a bearer token not RS256-signed by the Entra stand-in's
 * keys, not for `https://storage.azure.com` (or the account's service URL), not from the tenant, expired or
 * without `oid`, 401 InvalidAuthenticationInfo; a principal whose roles do not allow the request, 403
 * AuthorizationPermissionMismatch. What passes goes to Azurite unchanged (bearer token included, which Azurite
 * checks again in its basic way) and its answer streams back. A user delegation SAS passes when its delegator
 * (`skoid`) holds a role that allows the request; Azurite checks its signature and permissions.
 */
export async function startStorageRoleGate(options: StorageRoleGateOptions): Promise<StorageRoleGate> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const issuers = options.issuer ? [options.issuer] : [`https://sts.windows.net/${options.tenantId}/`, `https://login.microsoftonline.com/${options.tenantId}/v2.0`];
  const requests: GateRequest[] = [];

  /** The principal a request acts for, or why it is refused. */
  const principalOf = async (service: StorageService, req: IncomingMessage, query: URLSearchParams): Promise<{ oid: string } | StorageRefusal> => {
    const authorization = req.headers.authorization ?? '';
    if (/^SharedKey(Lite)?\s/i.test(authorization)) return { status: 403, code: 'KeyBasedAuthenticationNotPermitted' };
    if (!authorization && query.has('sig')) {
      // Only a user delegation SAS (signed with a key Entra authorized, blob only) is not shared-key access: all
      // its key fields, issued in this tenant, and neither an account SAS's `ss` nor `srt`.
      const delegator = query.get('skoid');
      const delegated = service === 'blob' && delegator && query.get('sktid') === options.tenantId && ['skt', 'ske', 'skv'].every((f) => query.has(f)) && !query.has('ss') && !query.has('srt');
      return delegated ? { oid: delegator } : { status: 403, code: 'KeyBasedAuthenticationNotPermitted' };
    }
    if (!authorization) return { status: 401, code: 'NoAuthenticationInformation' };
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!token) return { status: 401, code: 'InvalidAuthenticationInfo', detail: 'Authentication scheme is not supported.' };
    const accountUrl = `https://${options.account}.${service}.core.windows.net`;
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        audience: ['https://storage.azure.com', 'https://storage.azure.com/', accountUrl, `${accountUrl}/`],
        issuer: issuers,
        // Entra's resources allow five minutes of clock skew.
        clockTolerance: 300,
        requiredClaims: ['exp'],
      });
      if (typeof payload.oid !== 'string') return { status: 401, code: 'InvalidAuthenticationInfo', detail: 'The token has no oid claim.' };
      return { oid: payload.oid };
    } catch (e) {
      return { status: 401, code: 'InvalidAuthenticationInfo', detail: detailOf(e) };
    }
  };

  const forward = (service: StorageService, req: IncomingMessage, res: ServerResponse, log: (status: number, code?: string) => void) => {
    const { host, ports, ca } = options.upstream;
    const upstream = request({ host, port: ports[service], method: req.method, path: req.url, headers: { ...req.headers, host: `${host}:${ports[service]}` }, ca }, (answer) => {
      const code = answer.headers['x-ms-error-code'];
      log(answer.statusCode ?? 0, typeof code === 'string' ? code : undefined);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // Azurite gone: the client sees storage not answering, as it would see Azure's front end drop the connection.
    upstream.on('error', () => req.socket.destroy());
    // A caller that gives up (the SDK's try timeout) ends its request to Azurite too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const serve = async (service: StorageService, req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://storage');
    const log = (status: number, code?: string) => requests.push({ service, method: req.method ?? '', path: url.pathname, status, ...(code ? { code } : {}) });
    const principal = await principalOf(service, req, url.searchParams);
    const path = url.pathname.split('/').filter(Boolean).slice(1);
    const refusal: StorageRefusal | undefined =
      'oid' in principal
        ? rolesAllow(options.roles[principal.oid] ?? [], service, actionOf(service, req.method ?? 'GET', path, url.searchParams))
          ? undefined
          : { status: 403, code: 'AuthorizationPermissionMismatch' }
        : principal;
    if (!refusal) return forward(service, req, res, log);
    log(refusal.status, refusal.code);
    req.resume();
    answerRefusal(req, res, service, options.tenantId, refusal);
  };

  const servers = new Map<StorageService, Server>();
  const serviceUris = {} as Record<StorageService, string>;
  for (const service of SERVICES) {
    const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
      serve(service, req, res).catch(() => req.socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.set(service, server);
    serviceUris[service] = `https://127.0.0.1:${(server.address() as AddressInfo).port}/${options.account}`;
  }

  return {
    serviceUris,
    requests,
    close: async () => {
      await Promise.all(
        [...servers.values()].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
