import { randomUUID, X509Certificate } from 'node:crypto';
import { badRequest } from './graph-error.js';

/** A client secret of an application as Graph shows it: never its text, only its first three characters. */
export interface PasswordCredential {
  readonly keyId: string;
  readonly displayName: string | null;
  readonly hint: string | null;
  readonly startDateTime: string;
  readonly endDateTime: string;
}

/** A certificate credential of an application as Graph shows it: its SHA-1 thumbprint, never its key. */
export interface KeyCredential {
  readonly keyId: string;
  readonly displayName: string | null;
  readonly type: 'AsymmetricX509Cert';
  readonly usage: 'Verify';
  /** The certificate's SHA-1 thumbprint, hex upper-case. */
  readonly customKeyIdentifier: string;
  readonly startDateTime: string;
  readonly endDateTime: string;
}

/** An application object (an app registration) of the directory. */
export interface SimApplication {
  /** The object id (what `/applications/{id}` names). */
  readonly id: string;
  /** The application (client) id. */
  readonly appId: string;
  readonly displayName: string;
  passwordCredentials: readonly PasswordCredential[];
  keyCredentials: readonly KeyCredential[];
}

/** How long the default secret of the simulator's own app lasts: the longest the Entra portal recommends. */
const DEFAULT_SECRET_YEARS = 2;

const record = (v: unknown, what: string): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`Each of '${what}' must be an object.`, 'BadRequest');
  return v as Record<string, unknown>;
};
const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** A date-time of the body as Graph writes it (ISO 8601, UTC); `fallback` when absent. */
function dateTime(body: Record<string, unknown>, name: string, fallback?: string): string {
  const v = body[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw badRequest(`'${name}' must be a date-time.`, 'BadRequest');
  return new Date(v).toISOString();
}

/**
 * A client secret from the driver's body: `{ keyId?, displayName?, secretText? | hint?, startDateTime?,
 * endDateTime }`. Of a `secretText` only its first three characters are kept, as Graph's `hint`.
 */
function passwordCredentialOf(input: unknown, nowIso: string): PasswordCredential {
  const b = record(input, 'passwordCredentials');
  const secretText = text(b.secretText);
  return {
    keyId: text(b.keyId) ?? randomUUID(),
    displayName: text(b.displayName),
    hint: secretText ? secretText.slice(0, 3) : text(b.hint),
    startDateTime: dateTime(b, 'startDateTime', nowIso),
    endDateTime: dateTime(b, 'endDateTime'),
  };
}

/**
 * A certificate credential from the driver's body: `{ keyId?, displayName?, certificate? (PEM or base64 DER),
 * customKeyIdentifier?, startDateTime?, endDateTime? }`. A certificate gives the thumbprint and, unless named,
 * the validity, as Graph takes them from an uploaded certificate.
 */
function keyCredentialOf(input: unknown, nowIso: string): KeyCredential {
  const b = record(input, 'keyCredentials');
  let certificate: X509Certificate | undefined;
  if (b.certificate !== undefined) {
    const raw = typeof b.certificate === 'string' ? b.certificate : '';
    try {
      certificate = new X509Certificate(raw.includes('-----BEGIN') ? raw : Buffer.from(raw, 'base64'));
    } catch {
      throw badRequest("'certificate' is not an X.509 certificate (PEM or base64 DER).", 'BadRequest');
    }
  }
  const thumbprint = certificate ? certificate.fingerprint.replaceAll(':', '') : text(b.customKeyIdentifier);
  if (!thumbprint) throw badRequest("A key credential needs 'certificate' or 'customKeyIdentifier'.", 'BadRequest');
  return {
    keyId: text(b.keyId) ?? randomUUID(),
    displayName: text(b.displayName) ?? (certificate ? certificate.subject.replace(/\n/g, ', ') : null),
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    customKeyIdentifier: thumbprint.toUpperCase(),
    startDateTime: dateTime(b, 'startDateTime', certificate ? new Date(certificate.validFrom).toISOString() : nowIso),
    endDateTime: dateTime(b, 'endDateTime', certificate ? new Date(certificate.validTo).toISOString() : undefined),
  };
}

/** The credentials the driver puts on an application: each list given replaces the application's. */
export interface CredentialsInput {
  readonly passwordCredentials?: unknown;
  readonly keyCredentials?: unknown;
  readonly displayName?: unknown;
}

/**
 * The directory's application objects, by app id. The simulator's own app is there from the start with one
 * client secret ending two years after the simulator started (hint `sim`: there is no secret text); the driver
 * replaces an app's credentials, and names a new app into being (`PUT /_simulator/applications/{appId}/credentials`).
 */
export class ApplicationDirectory {
  readonly #apps = new Map<string, SimApplication>();
  readonly #now: () => number;

  constructor(ownApp: { readonly appId: string; readonly displayName: string }, now: () => number) {
    this.#now = now;
    const start = new Date(now());
    const end = new Date(start);
    end.setUTCFullYear(end.getUTCFullYear() + DEFAULT_SECRET_YEARS);
    this.#apps.set(ownApp.appId.toLowerCase(), {
      id: randomUUID(),
      appId: ownApp.appId,
      displayName: ownApp.displayName,
      passwordCredentials: [{ keyId: randomUUID(), displayName: 'simulator', hint: 'sim', startDateTime: start.toISOString(), endDateTime: end.toISOString() }],
      keyCredentials: [],
    });
  }

  get(appId: string): SimApplication | undefined {
    return this.#apps.get(appId.toLowerCase());
  }

  byObjectId(id: string): SimApplication | undefined {
    return this.list().find((a) => a.id.toLowerCase() === id.toLowerCase());
  }

  list(): SimApplication[] {
    return [...this.#apps.values()];
  }

  /** Replaces the credentials the input names (a list absent keeps the app's); an unknown app id is registered. */
  setCredentials(appId: string, input: CredentialsInput): SimApplication {
    const nowIso = new Date(this.#now()).toISOString();
    const list = (v: unknown, name: string): unknown[] => {
      if (!Array.isArray(v)) throw badRequest(`'${name}' must be an array.`, 'BadRequest');
      return v;
    };
    const passwords = input.passwordCredentials === undefined ? undefined : list(input.passwordCredentials, 'passwordCredentials').map((p) => passwordCredentialOf(p, nowIso));
    const keys = input.keyCredentials === undefined ? undefined : list(input.keyCredentials, 'keyCredentials').map((k) => keyCredentialOf(k, nowIso));
    const app = this.get(appId) ?? { id: randomUUID(), appId, displayName: text(input.displayName) ?? appId, passwordCredentials: [], keyCredentials: [] };
    if (passwords) app.passwordCredentials = passwords;
    if (keys) app.keyCredentials = keys;
    this.#apps.set(appId.toLowerCase(), app);
    return app;
  }
}

/** The properties of an application Graph answers; `$select` picks among them. */
const APPLICATION_PROPERTIES = ['id', 'appId', 'displayName', 'passwordCredentials', 'keyCredentials'] as const;

/**
 * An application as Graph returns it: secrets with `secretText` and `customKeyIdentifier` null, certificates
 * with `key` null (Graph returns a certificate's key only on a `$select` of one object; the simulator never
 * holds it). `select`: the `$select` names (case-insensitive), else every property.
 */
export function applicationJson(app: SimApplication, select: readonly string[] | undefined): Record<string, unknown> {
  const full: Record<(typeof APPLICATION_PROPERTIES)[number], unknown> = {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    passwordCredentials: app.passwordCredentials.map((p) => ({ customKeyIdentifier: null, secretText: null, ...p })),
    keyCredentials: app.keyCredentials.map((k) => ({ key: null, ...k })),
  };
  if (!select) return full;
  return Object.fromEntries(APPLICATION_PROPERTIES.filter((name) => select.some((s) => s.toLowerCase() === name.toLowerCase())).map((name) => [name, full[name]]));
}

/** The `$select` names, checked: Graph answers 400 for a property an application does not have. */
export function applicationSelect(query: URLSearchParams): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.find((n) => !APPLICATION_PROPERTIES.some((p) => p.toLowerCase() === n.toLowerCase()));
  if (unknown !== undefined) throw badRequest(`Could not find a property named '${unknown}' on type 'microsoft.graph.application'.`, 'Request_BadRequest');
  return names;
}
