import { randomUUID } from 'node:crypto';
import type { SubscriptionAuthorization } from './authorization.js';
import { parseResource, type ParsedResource } from './catalog.js';
import type { SimulatorClock } from './clock.js';
import { parseEncryptionCertificate, type SubscriptionCertificate } from './encrypt-resource-data.js';
import { badRequest, GraphError, notFound } from './graph-error.js';
import { checkQuotas } from './subscription-quotas.js';

/** Who calls the subscriptions API, read from the bearer token. */
export interface Caller {
  readonly appId: string;
  readonly tenantId: string;
  /** Present for delegated (user) tokens. */
  readonly userId?: string;
  /** How long the bearer token is still valid (from its `exp`), when it says. */
  readonly tokenLifetimeMs?: number;
  /** The application permissions of a signed token (`roles`), when the simulator verifies tokens. */
  readonly roles?: readonly string[];
}

export interface SimSubscription extends SubscriptionAuthorization {
  readonly id: string;
  readonly resource: string;
  readonly parsed: ParsedResource;
  readonly version: 'v1.0' | 'beta';
  readonly applicationId: string;
  readonly tenantId: string;
  /** The user whose view user-specific properties follow (/users/{id}/…, /me/…, or a delegated caller). */
  readonly userId?: string;
  readonly changeTypes: readonly string[];
  readonly clientState: string | null;
  notificationUrl: string;
  readonly lifecycleNotificationUrl: string | null;
  expirationMs: number;
  readonly includeResourceData: boolean;
  certificate?: SubscriptionCertificate;
  encryptionCertificate: string | null;
  encryptionCertificateId: string | null;
  /** The expiration a reauthorizationRequired was last sent for. */
  reauthorizationNoticeFor?: number;
}

export const LIFECYCLE_REQUIRED_MESSAGE = 'lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour';
export const HANDSHAKE_FAILED_MESSAGE = 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.';

const MINUTE = 60_000;
const MIN_LIFETIME = 45 * MINUTE;
const PATCHABLE = new Set(['expirationDateTime', 'notificationUrl', 'encryptionCertificate', 'encryptionCertificateId', 'lifecycleNotificationUrl']);

export interface SubscriptionServiceOptions {
  readonly clock: SimulatorClock;
  /** Performs the validation handshake; null when it passed. */
  readonly handshake: (url: string) => Promise<string | null>;
  /** Most subscriptions one tenant may hold (Teams shares one quota). */
  readonly quotaPerTenant: number;
  /** Most subscriptions tracking one user's chats or chat messages (default 10). */
  readonly quotaPerUser?: number;
  /** Throws Graph's 403 when the caller may not hold a subscription on the resource (permissions, protected-API access), its 404 when it cannot see it. */
  readonly checkAccess?: (caller: Caller, parsed: ParsedResource, operation: 'Create' | 'Update' | 'Reauthorize') => void;
  /** How long an authorization lasts when the caller's token does not say (ms). */
  readonly defaultTokenLifetimeMs?: number;
  /** Called when a renewal or reauthorization renewed a subscription's authorization (releases held notifications). */
  readonly onAuthorized?: (subscription: SimSubscription) => void;
  /** Called when a subscription is removed (deleted or expired). */
  readonly onRemoved?: (subscription: SimSubscription) => void;
}

function asString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Property '${name}' must be a string.`, 'InvalidRequest');
  return v;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** An absolute URL Graph would call: https, or plain http on loopback only (a local run; never real Graph). */
function asUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`Property '${name}' must be an absolute https URL.`, 'InvalidRequest');
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname))) return value;
  throw badRequest(`Invalid ${name} '${value}': only https URLs are supported (the simulator also takes http on loopback).`, 'InvalidRequest');
}

/** The subscriptions API's rules, as Graph applies them to Teams resources. */
export class SubscriptionService {
  readonly #options: SubscriptionServiceOptions;
  readonly #subscriptions = new Map<string, SimSubscription>();

  constructor(options: SubscriptionServiceOptions) {
    this.#options = options;
  }

  /** Active subscriptions (expired ones are removed first). */
  active(): SimSubscription[] {
    this.#purgeExpired();
    return [...this.#subscriptions.values()];
  }

  async create(caller: Caller, version: 'v1.0' | 'beta', body: Record<string, unknown>): Promise<SimSubscription> {
    const now = this.#options.clock.now();
    const resource = asString(body, 'resource');
    if (!resource) throw badRequest("Property 'resource' is required.", 'InvalidRequest');
    const parsed = parseResource(resource, version);
    if (typeof parsed === 'string') throw badRequest(parsed, 'InvalidRequest');

    const changeType = asString(body, 'changeType');
    if (!changeType) throw badRequest("Property 'changeType' is required.", 'InvalidRequest');
    const changeTypes = changeType.split(',').map((c) => c.trim().toLowerCase());
    for (const c of changeTypes) {
      if (!parsed.entry.changeTypes.includes(c)) {
        throw badRequest(`ChangeType '${c}' is not supported for resource '${parsed.path}'. Supported: ${parsed.entry.changeTypes.join(', ')}.`, 'InvalidRequest');
      }
    }

    this.#options.checkAccess?.(caller, parsed, 'Create');

    const notificationUrl = asString(body, 'notificationUrl');
    if (!notificationUrl) throw badRequest("Property 'notificationUrl' is required.", 'InvalidRequest');
    asUrl(notificationUrl, 'notificationUrl');
    const lifecycleNotificationUrl = asString(body, 'lifecycleNotificationUrl') ?? null;
    if (lifecycleNotificationUrl) asUrl(lifecycleNotificationUrl, 'lifecycleNotificationUrl');

    const expirationMs = this.#expiration(asString(body, 'expirationDateTime'), parsed, now);
    if (expirationMs - now > 60 * MINUTE && !lifecycleNotificationUrl) throw badRequest(LIFECYCLE_REQUIRED_MESSAGE, 'InvalidRequest');

    const clientState = asString(body, 'clientState') ?? null;
    if (clientState !== null && clientState.length > 128) throw badRequest("Property 'clientState' must be at most 128 characters.", 'InvalidRequest');

    const includeResourceData = body.includeResourceData === true;
    let certificate: SubscriptionCertificate | undefined;
    const encryptionCertificate = asString(body, 'encryptionCertificate') ?? null;
    const encryptionCertificateId = asString(body, 'encryptionCertificateId') ?? null;
    if (includeResourceData) {
      if (!encryptionCertificate) throw badRequest('encryptionCertificate is required when includeResourceData is true.', 'InvalidRequest');
      if (!encryptionCertificateId) throw badRequest('encryptionCertificateId is required when includeResourceData is true.', 'InvalidRequest');
      if (encryptionCertificateId.length > 128) throw badRequest('encryptionCertificateId must be at most 128 characters.', 'InvalidRequest');
      const parsedCert = parseEncryptionCertificate(encryptionCertificate, encryptionCertificateId);
      if (typeof parsedCert === 'string') throw badRequest(parsedCert, 'InvalidRequest');
      certificate = parsedCert;
    }

    const userId = parsed.ids.userId ?? (parsed.path.startsWith('/me/') ? caller.userId : undefined) ?? (parsed.notifyOnUserSpecificProperties ? caller.userId : undefined);
    if (parsed.path.startsWith('/me/') && !caller.userId) throw badRequest("'/me' needs a delegated (user) token.", 'InvalidRequest');

    const mine = this.active().filter((s) => s.applicationId === caller.appId && s.tenantId === caller.tenantId);
    const sameTypes = (s: SimSubscription) => [...s.changeTypes].sort().join(',') === [...changeTypes].sort().join(',');
    if (mine.some((s) => s.resource.toLowerCase() === resource.toLowerCase() && sameTypes(s))) {
      throw new GraphError(409, 'Conflict', `A subscription for resource '${resource}' and changeType '${changeType}' already exists for this application.`);
    }
    checkQuotas({ parsed, applicationId: caller.appId, tenantId: caller.tenantId, ...(userId ? { userId } : {}) }, this.active(), {
      perTenant: this.#options.quotaPerTenant,
      perUser: this.#options.quotaPerUser ?? 10,
    });

    await this.#handshakes([notificationUrl, lifecycleNotificationUrl]);

    const subscription: SimSubscription = {
      id: randomUUID(),
      resource,
      parsed,
      version,
      applicationId: caller.appId,
      tenantId: caller.tenantId,
      ...(userId ? { userId } : {}),
      changeTypes,
      clientState,
      notificationUrl,
      lifecycleNotificationUrl,
      expirationMs,
      includeResourceData,
      ...(certificate ? { certificate } : {}),
      encryptionCertificate,
      encryptionCertificateId,
      authorizedUntilMs: this.#authorizedUntil(caller),
      held: [],
    };
    this.#subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  list(caller: Caller): SimSubscription[] {
    return this.active().filter((s) => s.applicationId === caller.appId && s.tenantId === caller.tenantId);
  }

  get(caller: Caller, id: string): SimSubscription {
    const s = this.active().find((x) => x.id === id && x.applicationId === caller.appId && x.tenantId === caller.tenantId);
    if (!s) throw notFound(`The object was not found: subscription '${id}' does not exist or has expired.`);
    return s;
  }

  async update(caller: Caller, id: string, body: Record<string, unknown>): Promise<SimSubscription> {
    const s = this.get(caller, id);
    for (const key of Object.keys(body)) {
      if (!PATCHABLE.has(key)) throw badRequest(`Property '${key}' cannot be updated: delete the subscription and create it again.`, 'InvalidRequest');
    }
    this.#options.checkAccess?.(caller, s.parsed, 'Update');
    const lifecycle = asString(body, 'lifecycleNotificationUrl');
    if (lifecycle !== undefined && lifecycle !== s.lifecycleNotificationUrl) {
      throw badRequest('lifecycleNotificationUrl cannot be added or changed on an existing subscription: delete it and create it again.', 'InvalidRequest');
    }
    const now = this.#options.clock.now();
    const expirationMs = body.expirationDateTime !== undefined ? this.#expiration(asString(body, 'expirationDateTime'), s.parsed, now) : s.expirationMs;
    if (expirationMs - now > 60 * MINUTE && !s.lifecycleNotificationUrl) throw badRequest(LIFECYCLE_REQUIRED_MESSAGE, 'InvalidRequest');
    const notificationUrl = asString(body, 'notificationUrl') ?? s.notificationUrl;
    asUrl(notificationUrl, 'notificationUrl');

    let certificate = s.certificate;
    const cert = asString(body, 'encryptionCertificate');
    const certId = asString(body, 'encryptionCertificateId');
    if (cert !== undefined || certId !== undefined) {
      if (!cert || !certId) throw badRequest('encryptionCertificate and encryptionCertificateId must be updated together.', 'InvalidRequest');
      const parsedCert = parseEncryptionCertificate(cert, certId);
      if (typeof parsedCert === 'string') throw badRequest(parsedCert, 'InvalidRequest');
      certificate = parsedCert;
    }

    await this.#handshakes([notificationUrl, s.lifecycleNotificationUrl]);
    s.expirationMs = expirationMs;
    s.notificationUrl = notificationUrl;
    if (certificate && cert && certId) {
      s.certificate = certificate;
      s.encryptionCertificate = cert;
      s.encryptionCertificateId = certId;
    }
    this.#authorize(s, caller);
    return s;
  }

  async reauthorize(caller: Caller, id: string): Promise<void> {
    const s = this.get(caller, id);
    this.#options.checkAccess?.(caller, s.parsed, 'Reauthorize');
    await this.#handshakes([s.notificationUrl]);
    this.#authorize(s, caller);
  }

  #authorizedUntil(caller: Caller): number {
    return this.#options.clock.now() + (caller.tokenLifetimeMs ?? this.#options.defaultTokenLifetimeMs ?? 60 * MINUTE);
  }

  /** A renewal or reauthorization: authorized for as long as the caller's token lasts, delivery resumed. */
  #authorize(s: SimSubscription, caller: Caller): void {
    s.authorizedUntilMs = this.#authorizedUntil(caller);
    delete s.reauthorizationRequestedAtMs;
    this.#options.onAuthorized?.(s);
  }

  delete(caller: Caller, id: string): void {
    const s = this.get(caller, id);
    this.remove(s.id);
  }

  /** Removes a subscription without a caller (simulated subscriptionRemoved). */
  remove(id: string): SimSubscription | undefined {
    const s = this.#subscriptions.get(id);
    if (s) {
      this.#subscriptions.delete(id);
      this.#options.onRemoved?.(s);
    }
    return s;
  }

  find(id: string): SimSubscription | undefined {
    return this.#subscriptions.get(id);
  }

  #purgeExpired(): void {
    const now = this.#options.clock.now();
    for (const s of [...this.#subscriptions.values()]) if (s.expirationMs <= now) this.remove(s.id);
  }

  #expiration(value: string | undefined, parsed: ParsedResource, now: number): number {
    if (!value) throw badRequest("Property 'expirationDateTime' is required.", 'InvalidRequest');
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw badRequest(`'${value}' is not a valid expirationDateTime.`, 'InvalidRequest');
    const max = parsed.entry.maxMinutes;
    if (ms <= now) throw badRequest(`Subscription expiration can only be 0-${max} minutes in the future.`, 'InvalidRequest');
    if (ms - now > max * MINUTE) throw badRequest(`Subscription expiration can only be 0-${max} minutes in the future.`, 'InvalidRequest');
    return Math.max(ms, now + MIN_LIFETIME);
  }

  async #handshakes(urls: (string | null)[]): Promise<void> {
    const targets = urls.filter((u): u is string => !!u);
    const results = await Promise.all(targets.map((u) => this.#options.handshake(u)));
    const failed = results.findIndex((r) => r !== null);
    // Graph's refusal quotes the URL it called, query string (a function key) and all.
    if (failed >= 0) throw badRequest(`${HANDSHAKE_FAILED_MESSAGE} (${targets[failed]}: ${results[failed]})`, 'ValidationError');
  }
}

/** A subscription as Graph answers it; a list answers `clientState: null` ("not returned for security purposes"). */
export function subscriptionJson(s: SimSubscription, baseUrl: string, view: 'entity' | 'list' = 'entity'): Record<string, unknown> {
  return {
    '@odata.context': `${baseUrl}/${s.version}/$metadata#subscriptions/$entity`,
    id: s.id,
    resource: s.resource,
    applicationId: s.applicationId,
    changeType: s.changeTypes.join(','),
    clientState: view === 'list' ? null : s.clientState,
    notificationUrl: s.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl,
    expirationDateTime: new Date(s.expirationMs).toISOString(),
    creatorId: s.userId ?? s.applicationId,
    includeResourceData: s.includeResourceData,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: s.encryptionCertificate,
    encryptionCertificateId: s.encryptionCertificateId,
    notificationUrlAppId: null,
  };
}
