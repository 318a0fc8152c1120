import type { ParsedResource } from './catalog.js';
import { extensionError, GraphError } from './graph-error.js';

/** What a tenant granted a calling app, as Graph checks it when a subscription is created or kept alive. */
export interface AppGrant {
  /** Application permissions an admin consented to (the token's `roles`). */
  readonly permissions: readonly string[];
  /** Microsoft approved the app for Teams' protected APIs (chatMessage subscriptions with application permissions). */
  readonly protectedApiAccess: boolean;
}

/**
 * The application permissions Graph accepts, any one of them, for the tenant-wide listings a backfill walks
 * (Graph's permission tables: with application permissions, `GET /users` takes User.Read.All and above, never
 * User.ReadBasic.All) and for the application objects the self-checks read (`GET /applications`: their
 * credentials' expiry).
 */
export const READ_PERMISSIONS = {
  users: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  teams: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All'],
  applications: ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
} as const;
export type GuardedRead = keyof typeof READ_PERMISSIONS;

/** Every application permission the Teams catalog names, and the least privileged of each listing's. */
export const TEAMS_APPLICATION_PERMISSIONS = [
  'Chat.ReadBasic.All',
  'Chat.Read.All',
  'Chat.ReadWrite.All',
  'ChatMember.Read.All',
  'ChatMember.ReadWrite.All',
  'ChannelMessage.Read.All',
  'Chat.ReadBasic.WhereInstalled',
  'Chat.Read.WhereInstalled',
  'Chat.ReadWrite.WhereInstalled',
  'ChatMember.Read.WhereInstalled',
  'ChatMember.ReadWrite.WhereInstalled',
  'User.Read.All',
  'Team.ReadBasic.All',
] as const;

/** What the app's self-checks read beyond Teams: its own application object (its credentials' expiry). */
export const SELF_CHECK_PERMISSIONS = ['Application.Read.All'] as const;

/** An app with every permission and protected-API access: the default. */
export const FULL_GRANT: AppGrant = { permissions: [...TEAMS_APPLICATION_PERMISSIONS, ...SELF_CHECK_PERMISSIONS], protectedApiAccess: true };

/** An admin's consent in one tenant: the application permissions granted to an app there. */
export interface TenantConsent {
  readonly tenantId: string;
  readonly appId: string;
  readonly permissions: readonly string[];
}

const consentKey = (tenantId: string, appId: string) => `${tenantId.toLowerCase()}|${appId.toLowerCase()}`;

/**
 * The grants of each calling app (`sim.grants.set(appId, …)`, or `PATCH /_simulator/apps/{appId}/grants`), and
 * the admin consent of each app in each tenant (`consent`, `revoke`; the driver's
 * `POST /_simulator/tenants/{id}/consent`, `DELETE …/consent/{appId}`).
 *
 * In the default tenant an app's permissions are its grant (`defaultGrant` unless set): every app is consented
 * there, as before tenants existed, until the driver revokes it. In any other tenant an app has no consent until
 * the driver gives one, and then exactly the permissions consented. Protected-API access is Microsoft's approval
 * of the app, the same in every tenant: the grant's.
 *
 * Creation, renewal and reauthorization of an application-permission subscription are refused with 403 and
 * Graph's Teams error shape when the app lacks one of the resource's permissions, or protected-API access for
 * messages. A `model=` is never refused for billing: since 25 August 2025 the Teams APIs are no longer metered.
 * The tenant-wide listings (`/users`, `/teams`) and the application objects (`/applications`) are refused with
 * 403 and Graph's answer for each when the app lacks all of their permissions. Delegated (user) callers are not checked.
 */
export class AppGrants {
  readonly #grants = new Map<string, AppGrant>();
  /** Consents in tenants other than the default one, by tenant and app. */
  readonly #consents = new Map<string, TenantConsent>();
  /** Apps whose consent in the default tenant was revoked. */
  readonly #revokedInDefault = new Set<string>();
  readonly #defaultTenantId: string;
  defaultGrant: AppGrant;

  constructor(defaultTenantId: string, defaultGrant: AppGrant = FULL_GRANT, grants: Readonly<Record<string, Partial<AppGrant>>> = {}) {
    this.#defaultTenantId = defaultTenantId.toLowerCase();
    this.defaultGrant = defaultGrant;
    for (const [appId, grant] of Object.entries(grants)) this.set(appId, grant);
  }

  of(appId: string): AppGrant {
    return this.#grants.get(appId.toLowerCase()) ?? this.defaultGrant;
  }

  /** Changes what an app is granted (unnamed fields keep their value); answers the whole grant. */
  set(appId: string, grant: Partial<AppGrant>): AppGrant {
    const next = { ...this.of(appId), ...grant };
    this.#grants.set(appId.toLowerCase(), next);
    return next;
  }

  #isDefault(tenantId: string): boolean {
    return tenantId.toLowerCase() === this.#defaultTenantId;
  }

  /** The app's consent in the tenant, or undefined when no admin consented (or the consent was revoked). */
  consentIn(tenantId: string, appId: string): TenantConsent | undefined {
    if (!this.#isDefault(tenantId)) return this.#consents.get(consentKey(tenantId, appId));
    if (this.#revokedInDefault.has(appId.toLowerCase())) return undefined;
    return { tenantId, appId, permissions: this.of(appId).permissions };
  }

  /** An admin consents the app's application permissions in the tenant (replacing an earlier consent). */
  consent(tenantId: string, appId: string, permissions: readonly string[]): TenantConsent {
    if (this.#isDefault(tenantId)) {
      this.#revokedInDefault.delete(appId.toLowerCase());
      this.set(appId, { permissions: [...permissions] });
      return { tenantId, appId, permissions: [...permissions] };
    }
    const consent: TenantConsent = { tenantId, appId, permissions: [...permissions] };
    this.#consents.set(consentKey(tenantId, appId), consent);
    return consent;
  }

  /** The admin revokes the consent (removes the app's enterprise application); answers whether there was one. */
  revoke(tenantId: string, appId: string): boolean {
    if (this.#isDefault(tenantId)) {
      const had = !this.#revokedInDefault.has(appId.toLowerCase());
      this.#revokedInDefault.add(appId.toLowerCase());
      return had;
    }
    return this.#consents.delete(consentKey(tenantId, appId));
  }

  /** The permissions an app caller holds: a verified token's roles (what the tenant consented to), else its consent in the caller's tenant. */
  #permissionsOf(caller: { readonly appId: string; readonly tenantId: string; readonly roles?: readonly string[] }): readonly string[] {
    return caller.roles ?? this.consentIn(caller.tenantId, caller.appId)?.permissions ?? [];
  }

  /**
   * Throws Graph's 403 when an app may not list the tenant's users or read its applications (the directory's
   * `Authorization_RequestDenied`) or list its teams (Teams' `Forbidden` naming the roles it wants and those it got).
   */
  checkRead(caller: { readonly appId: string; readonly tenantId: string; readonly userId?: string; readonly roles?: readonly string[] }, what: GuardedRead): void {
    if (caller.userId) return;
    const permissions = this.#permissionsOf(caller);
    const wanted: readonly string[] = READ_PERMISSIONS[what];
    if (wanted.some((p) => permissions.includes(p))) return;
    if (what !== 'teams') throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    throw new GraphError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${wanted.join(', ')}'. Roles on the request '${permissions.join(', ')}'.`);
  }

  /** Throws Graph's 403 when the app may not hold a subscription on this resource. */
  check(caller: { readonly appId: string; readonly tenantId: string; readonly userId?: string; readonly roles?: readonly string[] }, parsed: ParsedResource, operation = 'Create'): void {
    if (caller.userId) return;
    const grant = this.of(caller.appId);
    const permissions = this.#permissionsOf(caller);
    const { entry } = parsed;
    if (!entry.permissions.some((p) => permissions.includes(p))) {
      throw extensionError(403, `Required permissions to access ${entry.name} subscription one of ('${entry.permissions.join(',')}') is missing.`, operation);
    }
    if ((entry.kind === 'chatMessage' || entry.kind === 'channelMessage') && !grant.protectedApiAccess) {
      throw extensionError(403, `Application ${caller.appId} is not approved for protected APIs in Microsoft Teams (https://aka.ms/teamsgraph/requestaccess).`, operation);
    }
  }
}
