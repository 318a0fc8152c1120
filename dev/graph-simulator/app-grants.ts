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

/**
 * The grants of each calling app (`sim.grants.set(appId, …)`, or `PATCH /_simulator/apps/{appId}/grants`).
 * Creation, renewal and reauthorization of an application-permission subscription are refused with 403 and
 * Graph's Teams error shape when the app lacks one of the resource's permissions, or protected-API access for
 * messages. A `model=` is never refused for billing: since 25 August 2025 the Teams APIs are no longer metered.
 * The tenant-wide listings (`/users`, `/teams`) and the application objects (`/applications`) are refused with
 * 403 and Graph's answer for each when the app lacks all of their permissions. Delegated (user) callers are not checked.
 */
export class AppGrants {
  readonly #grants = new Map<string, AppGrant>();
  defaultGrant: AppGrant;

  constructor(defaultGrant: AppGrant = FULL_GRANT, grants: Readonly<Record<string, Partial<AppGrant>>> = {}) {
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

  /** The permissions an app caller holds: a verified token's roles (what the tenant consented to), else the grant set for it. */
  #permissionsOf(caller: { readonly appId: string; readonly roles?: readonly string[] }): readonly string[] {
    return caller.roles ?? this.of(caller.appId).permissions;
  }

  /**
   * Throws Graph's 403 when an app may not list the tenant's users or read its applications (the directory's
   * `Authorization_RequestDenied`) or list its teams (Teams' `Forbidden` naming the roles it wants and those it got).
   */
  checkRead(caller: { readonly appId: string; readonly userId?: string; readonly roles?: readonly string[] }, what: GuardedRead): void {
    if (caller.userId) return;
    const permissions = this.#permissionsOf(caller);
    const wanted: readonly string[] = READ_PERMISSIONS[what];
    if (wanted.some((p) => permissions.includes(p))) return;
    if (what !== 'teams') throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    throw new GraphError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${wanted.join(', ')}'. Roles on the request '${permissions.join(', ')}'.`);
  }

  /** Throws Graph's 403 when the app may not hold a subscription on this resource. */
  check(caller: { readonly appId: string; readonly userId?: string; readonly roles?: readonly string[] }, parsed: ParsedResource, operation = 'Create'): void {
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
