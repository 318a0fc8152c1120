import { generateKeyPairSync } from 'node:crypto';
import { AppGrants, type AppGrant } from './app-grants.js';
import { ApplicationDirectory } from './applications.js';
import { authorizationDue, DEFAULT_AUTHORIZATION_RULES, isPaused, type AuthorizationRules } from './authorization.js';
import { ChangeLog } from './change-log.js';
import { SimulatorClock } from './clock.js';
import { Deliverer, type DeliveryOptionsInput } from './delivery.js';
import { extensionError, GraphError, SimulatorUsageError } from './graph-error.js';
import { notificationsFor } from './notification-router.js';
import { ReadThrottle, type ReadLimits } from './read-throttle.js';
import { createSimulatorServer, type SimulatorServer } from './server.js';
import { PagingTokens } from './skip-token.js';
import { SubscriptionService, type Caller, type SimSubscription } from './subscriptions.js';
import type { TeamsDirectory } from './teams-directory.js';
import { TenantDirectories } from './tenant-directories.js';
import { TenantSettingsRegistry, type TenantSettings } from './tenant-settings.js';
import { graphDateTime } from './teams-model.js';
import { TokenSigner } from './token-signer.js';
import { TokenVerifier } from './token-verifier.js';
import { performValidationHandshake } from './validation-handshake.js';

export const SIMULATOR_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const SIMULATOR_APP_ID = '22222222-2222-4222-8222-222222222222';
/** The display name of the simulator's own app registration (`GET /applications`). */
export const SIMULATOR_APP_DISPLAY_NAME = 'teams-change-relay (simulator)';
/** The display name of the default tenant (`GET /_simulator/tenants`). */
export const SIMULATOR_TENANT_DISPLAY_NAME = 'Contoso (simulator)';

export interface GraphSimulatorOptions {
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** The default tenant: the simulated Teams organisation `sim.teams` holds, and the tenant of callers whose token names none. */
  readonly tenantId?: string;
  /** The app id of callers whose bearer token names none. */
  readonly appId?: string;
  readonly quotaPerTenant?: number;
  /** Most subscriptions tracking one user's chats or chat messages (Teams: 10). */
  readonly quotaPerUser?: number;
  readonly delivery?: DeliveryOptionsInput;
  /** Throttling of resource GETs (Teams' per-chat/channel and per-tenant limits). */
  readonly reads?: Partial<ReadLimits>;
  readonly handshakeTimeoutMs?: number;
  /** The local address validation handshakes leave from (Graph's published addresses); unset: the system's choice. */
  readonly handshakeFrom?: string;
  /** How long before expiry `reauthorizationRequired` is sent (simulated minutes). */
  readonly reauthorizationNoticeMinutes?: number;
  /** Reauthorization as the caller's access token lapses: notices, paused delivery, removal (authorization.ts). */
  readonly authorization?: Partial<AuthorizationRules>;
  /** Validation token versions: v1 (`appid`), v2 (`azp`), or `mixed` (the default: alternating). */
  readonly issuerVersion?: 'v1' | 'v2' | 'mixed';
  /** What calling apps are granted in the default tenant (permissions, protected-API access); unnamed apps get `defaultGrant`. */
  readonly grants?: Readonly<Record<string, Partial<AppGrant>>>;
  /** The grant of apps not named in `grants` (default: everything, FULL_GRANT). */
  readonly defaultGrant?: AppGrant;
  /** How tenants configured the app's enterprise application (tenant-settings.ts); unnamed tenants: the defaults. */
  readonly tenants?: Readonly<Record<string, Partial<TenantSettings>>>;
  /**
   * Check bearer tokens as Graph does, against this issuer's keys (the Entra stand-in's JWKS): signature,
   * audience Graph, expiry; a token's `roles` are then the app's permissions. Unset: tokens are read unchecked.
   */
  readonly verifyTokens?: { readonly jwksUrl: string; readonly issuer?: string; readonly audiences?: readonly string[] };
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** Makes the next calls to the subscriptions API fail, for tests of retries. */
export class FaultInjector {
  #pending: { status: 429 | 503; retryAfterSeconds: number }[] = [];
  failNext(count: number, status: 429 | 503 = 429, retryAfterSeconds = 1): void {
    for (let i = 0; i < count; i++) this.#pending.push({ status, retryAfterSeconds });
  }
  take(): { status: 429 | 503; retryAfterSeconds: number } | undefined {
    return this.#pending.shift();
  }
}

/**
 * A local stand-in for the part of Microsoft Graph this app uses: the subscriptions API, Teams activity
 * that produces change notifications (encrypted resource data, validation tokens), Graph-like delivery,
 * lifecycle notifications and GETs of the resources. State is in memory.
 */
export class GraphSimulator {
  readonly clock = new SimulatorClock();
  readonly signer = new TokenSigner();
  readonly faults = new FaultInjector();
  /** What each calling app is granted; see app-grants.ts. */
  readonly grants: AppGrants;
  /** How each tenant configured the app's enterprise application; see tenant-settings.ts. */
  readonly tenants: TenantSettingsRegistry;
  /** The application objects (app registrations) and their credentials; see applications.ts. */
  readonly applications: ApplicationDirectory;
  /** Throttling of message GETs and the export APIs, with a log of every read. */
  readonly reads: ReadThrottle;
  /** Signs and checks the read APIs' skip and delta tokens. */
  readonly pagingTokens = new PagingTokens();
  readonly deliveries: Deliverer;
  readonly subscriptions: SubscriptionService;
  /** Every tenant the simulator holds, each with its own directory; see tenant-directories.ts. */
  readonly tenantDirectories: TenantDirectories;
  /** The default tenant's directory (users, chats, teams). */
  readonly teams: TeamsDirectory;
  /** Every change the simulated Teams made (resource path and version), notified or not. */
  readonly changes = new ChangeLog(() => this.clock.now());
  readonly tenantId: string;
  readonly appId: string;
  readonly #reauthorizationNoticeMs: number;
  readonly authorization: AuthorizationRules;
  /** Set with `verifyTokens`: every call's token is checked (token-verifier.ts). */
  readonly tokenVerifier: TokenVerifier | undefined;
  #server: SimulatorServer | undefined;
  #tick: NodeJS.Timeout | undefined;

  constructor(options: GraphSimulatorOptions = {}) {
    this.tenantId = options.tenantId ?? SIMULATOR_TENANT_ID;
    this.appId = options.appId ?? SIMULATOR_APP_ID;
    this.signer.issuerVersion = options.issuerVersion ?? 'mixed';
    this.#reauthorizationNoticeMs = (options.reauthorizationNoticeMinutes ?? 15) * 60_000;
    this.authorization = { ...DEFAULT_AUTHORIZATION_RULES, ...options.authorization };
    this.reads = new ReadThrottle(options.reads);
    this.tenants = new TenantSettingsRegistry(options.tenants);
    this.applications = new ApplicationDirectory({ appId: this.appId, displayName: SIMULATOR_APP_DISPLAY_NAME }, () => this.clock.now());
    this.deliveries = new Deliverer(
      this.clock,
      async (appId, tenantId) => (this.tenants.issuesValidationTokens(tenantId) ? this.signer.validationToken(appId, tenantId, this.clock.now()) : undefined),
      options.delivery,
    );
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.grants = new AppGrants(this.tenantId, options.defaultGrant, options.grants);
    this.tokenVerifier = options.verifyTokens ? new TokenVerifier(options.verifyTokens) : undefined;
    this.subscriptions = new SubscriptionService({
      clock: this.clock,
      handshake: (url) => performValidationHandshake(url, handshakeTimeoutMs, options.handshakeFrom),
      checkAccess: (caller, parsed, operation) => {
        // Another tenant's chat, team or user: out of the caller's sight, as a resource that does not exist.
        if (operation === 'Create' && this.tenantDirectories.hiddenFrom(caller.tenantId, parsed.ids)) throw extensionError(404, 'Not Found');
        this.grants.check(caller, parsed, operation);
      },
      defaultTokenLifetimeMs: this.authorization.defaultTokenMinutes * 60_000,
      onAuthorized: (s) => this.deliveries.enqueue(s.notificationUrl, s.held.splice(0)),
      quotaPerTenant: options.quotaPerTenant ?? 10_000,
      ...(options.quotaPerUser !== undefined ? { quotaPerUser: options.quotaPerUser } : {}),
    });
    this.tenantDirectories = new TenantDirectories({ id: this.tenantId, displayName: SIMULATOR_TENANT_DISPLAY_NAME }, this.clock, (directory, event) => {
      const now = this.clock.now();
      const subscriptions = this.subscriptions.active();
      const delivering = subscriptions.filter((s) => !isPaused(s, now));
      for (const [url, items] of notificationsFor(event, delivering, directory.users)) this.deliveries.enqueue(url, items);
      // Paused (authorization lapsed): held until a reauthorization or renewal releases them.
      for (const s of subscriptions.filter((x) => isPaused(x, now))) for (const items of notificationsFor(event, [s], directory.users).values()) s.held.push(...items);
      this.changes.record(event, directory.tenantId);
    });
    this.teams = this.tenantDirectories.defaultTenant.teams;
    this.clock.onAdvance(() => this.#checkExpiry());
  }

  /**
   * The caller as Graph serves it, or Graph's 401: a token of a tenant the simulator does not hold; an unsigned
   * app token (`npm start`, no `verifyTokens`) of an app with no consent in its tenant. Entra would have issued
   * neither token (no tenant; AADSTS7000229, no service principal): with unsigned tokens the simulator answers as
   * Graph answers a token without `roles` (what Entra issues an app whose service principal holds no role). A
   * signed token is trusted for what it says, as Graph trusts it until it expires.
   */
  admit(caller: Caller): Caller {
    const tenant = this.tenantDirectories.get(caller.tenantId);
    if (!tenant) throw new GraphError(401, 'InvalidAuthenticationToken', `Access token validation failure: the simulator holds no tenant '${caller.tenantId}'.`);
    if (!caller.userId && !caller.roles && !this.grants.consentIn(tenant.id, caller.appId)) {
      throw new GraphError(
        401,
        'InvalidAuthenticationToken',
        `Either scp or roles claim need to be present in the token. (Simulator: app '${caller.appId}' has no admin consent in tenant '${tenant.id}'.)`,
      );
    }
    return { ...caller, tenantId: tenant.id };
  }

  /**
   * An admin revokes the app's consent in a tenant: later calls with unsigned tokens are refused (admit), and
   * Graph no longer holds the app's subscriptions there authorized: their delivery pauses, reauthorizationRequired
   * follows and, unanswered, their removal (authorization.ts), as when a token lapses. Answers whether there was a consent.
   */
  revokeConsent(tenantId: string, appId: string): boolean {
    const tenant = this.tenantDirectories.require(tenantId);
    const had = this.grants.revoke(tenant.id, appId);
    const now = this.clock.now();
    for (const s of this.subscriptions.active()) {
      if (s.tenantId === tenant.id && s.applicationId.toLowerCase() === appId.toLowerCase()) s.authorizedUntilMs = Math.min(s.authorizedUntilMs, now);
    }
    return had;
  }

  get baseUrl(): string {
    if (!this.#server) throw new SimulatorUsageError('The simulator is not listening.');
    return this.#server.url;
  }

  get jwksUrl(): string {
    return `${this.baseUrl}/common/discovery/v2.0/keys`;
  }

  async listen(host = '127.0.0.1', port = 0): Promise<this> {
    this.#server = await createSimulatorServer(this, host, port);
    this.#tick = setInterval(() => this.#checkExpiry(), 1000);
    this.#tick.unref();
    return this;
  }

  /**
   * Sends a lifecycle notification for a subscription, to its lifecycleNotificationUrl only (a subscription
   * created without one gets none, as in Graph); `subscriptionRemoved` also removes it.
   */
  sendLifecycle(subscriptionId: string, lifecycleEvent: LifecycleEvent): SimSubscription | undefined {
    const s = this.subscriptions.find(subscriptionId);
    if (!s) return undefined;
    if (lifecycleEvent === 'subscriptionRemoved') this.subscriptions.remove(s.id);
    if (!s.lifecycleNotificationUrl) return s;
    const item: Record<string, unknown> = {
      subscriptionId: s.id,
      subscriptionExpirationDateTime: graphDateTime(s.expirationMs),
      tenantId: s.tenantId,
      ...(s.clientState !== null ? { clientState: s.clientState } : {}),
      lifecycleEvent,
    };
    this.deliveries.enqueue(s.lifecycleNotificationUrl, [{ item }]);
    return s;
  }

  /**
   * POSTs a forged notification for a subscription, straight to its URL: one with a wrong clientState, or
   * one with resource data whose validation token is signed by a key the JWKS does not publish.
   */
  async sendForged(subscriptionId: string, forgery: 'clientState' | 'tokenKey'): Promise<number | 'timeout' | 'error'> {
    const s = this.subscriptions.find(subscriptionId);
    if (!s) throw new SimulatorUsageError(`No subscription ${subscriptionId}`);
    const item: Record<string, unknown> = {
      subscriptionId: s.id,
      changeType: 'created',
      clientState: forgery === 'clientState' ? 'forged-client-state' : s.clientState,
      subscriptionExpirationDateTime: new Date(s.expirationMs).toISOString(),
      resource: "chats('19:forged@thread.v2')/messages('1')",
      resourceData: { id: '1', '@odata.type': '#Microsoft.Graph.chatMessage', '@odata.id': "chats('19:forged@thread.v2')/messages('1')" },
      tenantId: s.tenantId,
      encryptedContent: { data: 'AAAA', dataKey: 'AAAA', dataSignature: 'AAAA', encryptionCertificateId: s.encryptionCertificateId ?? 'none' },
    };
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const token = await this.signer.validationToken(s.applicationId, s.tenantId, this.clock.now(), forgery === 'tokenKey' ? { privateKey: otherKey } : {});
    return this.deliveries.sendRaw(s.notificationUrl, { value: [item], validationTokens: [token] });
  }

  /**
   * reauthorizationRequired shortly before expiry (once per expiration) and, repeatedly, as the caller's token
   * nears its end; removal of what stayed unauthorized too long; expired subscriptions removed.
   */
  #checkExpiry(): void {
    const now = this.clock.now();
    for (const s of this.subscriptions.active()) {
      const due = authorizationDue(s, now, this.authorization);
      if (due === 'remove') {
        this.sendLifecycle(s.id, 'subscriptionRemoved');
        continue;
      }
      const expiring = s.expirationMs - now <= this.#reauthorizationNoticeMs && s.reauthorizationNoticeFor !== s.expirationMs;
      if (expiring) s.reauthorizationNoticeFor = s.expirationMs;
      if (due === 'notice') s.reauthorizationRequestedAtMs = now;
      if (expiring || due === 'notice') this.sendLifecycle(s.id, 'reauthorizationRequired');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#tick);
    this.deliveries.close();
    await this.#server?.close();
  }
}

export async function startGraphSimulator(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
  return new GraphSimulator(options).listen(options.host, options.port);
}
