import type { ParsedResource } from './catalog.js';
import { extensionError } from './graph-error.js';

/** What a tenant granted a calling app, as Graph checks it when a subscription is created or kept alive. */
export interface AppGrant {
  /** Application permissions an admin consented to (the token's `roles`). */
  readonly permissions: readonly string[];
  /** Microsoft approved the app for Teams' protected APIs (chatMessage subscriptions with application permissions). */
  readonly protectedApiAccess: boolean;
}

/** Every application permission the Teams catalog names. */
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
] as const;

/** An app with every permission and protected-API access: the default. */
export const FULL_GRANT: AppGrant = { permissions: TEAMS_APPLICATION_PERMISSIONS, protectedApiAccess: true };

/**
 * The grants of each calling app (`sim.grants.set(appId, …)`, or `PATCH /_simulator/apps/{appId}/grants`).
 * Creation, renewal and reauthorization of an application-permission subscription are refused with 403 and
 * Graph's Teams error shape when the app lacks one of the resource's permissions, or protected-API access for
 * messages. A `model=` is never refused for billing: since 25 August 2025 the Teams APIs are no longer metered.
 * Delegated (user) callers are not checked.
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

  /** Throws Graph's 403 when the app may not hold a subscription on this resource. */
  check(caller: { readonly appId: string; readonly userId?: string; readonly roles?: readonly string[] }, parsed: ParsedResource, operation = 'Create'): void {
    if (caller.userId) return;
    const grant = this.of(caller.appId);
    // A verified token's roles are what the tenant consented to; otherwise the grant set for the app.
    const permissions = caller.roles ?? grant.permissions;
    const { entry } = parsed;
    if (!entry.permissions.some((p) => permissions.includes(p))) {
      throw extensionError(403, `Required permissions to access ${entry.name} subscription one of ('${entry.permissions.join(',')}') is missing.`, operation);
    }
    if ((entry.kind === 'chatMessage' || entry.kind === 'channelMessage') && !grant.protectedApiAccess) {
      throw extensionError(403, `Application ${caller.appId} is not approved for protected APIs in Microsoft Teams (https://aka.ms/teamsgraph/requestaccess).`, operation);
    }
  }
}
