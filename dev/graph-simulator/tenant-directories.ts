import { randomUUID } from 'node:crypto';
import type { SimulatorClock } from './clock.js';
import { GraphError, notFound } from './graph-error.js';
import { TeamsDirectory, type ChangeEvent } from './teams-directory.js';
import { tenantsOfChat, type SimChat, type SimUser } from './teams-model.js';

/** A tenant the simulator holds: its id, its name and its own Teams directory (users, chats, teams). */
export interface SimTenant {
  readonly id: string;
  readonly displayName: string;
  readonly teams: TeamsDirectory;
}

/** What a subscription resource names, to be checked against the caller's tenant. */
export interface ResourceIds {
  readonly chatId?: string;
  readonly teamId?: string;
  readonly userId?: string;
}

/**
 * The simulator's tenants, each with its own directory: the default tenant (the one the app uses locally) from
 * the start, more created by the driver (`POST /_simulator/tenants`). A chat belongs to the tenant it was
 * created in; a user of another tenant added to it stays that tenant's user (a guest in the chat's tenant), and
 * the chat is then seen by both tenants (cross-tenant chat). Ids of users, chats and teams are unique across
 * tenants, as Entra's and Teams' ids are.
 */
export class TenantDirectories {
  readonly #tenants = new Map<string, SimTenant>();
  readonly #clock: SimulatorClock;
  readonly #emit: (directory: TeamsDirectory, event: ChangeEvent) => void;
  readonly defaultTenant: SimTenant;

  /** `emit`: every change of any tenant's directory, with the directory it happened in. */
  constructor(defaultTenant: { readonly id: string; readonly displayName: string }, clock: SimulatorClock, emit: (directory: TeamsDirectory, event: ChangeEvent) => void) {
    this.#clock = clock;
    this.#emit = emit;
    this.defaultTenant = this.create(defaultTenant);
  }

  /** Creates a tenant with an empty directory (409 when the id is taken; a new GUID when none is given). */
  create(input: { readonly id?: string; readonly displayName: string }): SimTenant {
    const id = input.id ?? randomUUID();
    if (this.get(id)) throw new GraphError(409, 'Conflict', `Tenant '${id}' already exists.`);
    const teams: TeamsDirectory = new TeamsDirectory(
      id,
      this.#clock,
      (event) => this.#emit(teams, event),
      (userId) => this.#homeOf(userId),
    );
    const tenant: SimTenant = { id, displayName: input.displayName, teams };
    this.#tenants.set(id.toLowerCase(), tenant);
    return tenant;
  }

  get(tenantId: string): SimTenant | undefined {
    return this.#tenants.get(tenantId.toLowerCase());
  }

  /** The tenant, or the driver's 404. */
  require(tenantId: string): SimTenant {
    const tenant = this.get(tenantId);
    if (!tenant) throw notFound(`Tenant '${tenantId}' does not exist in the simulator (POST /_simulator/tenants creates one).`);
    return tenant;
  }

  list(): SimTenant[] {
    return [...this.#tenants.values()];
  }

  /** A user's own tenant (not one where they are a guest), and the user. */
  #homeOf(userId: string): { user: SimUser; tenantId: string } | undefined {
    for (const t of this.#tenants.values()) {
      const user = t.teams.users.get(userId);
      if (user && t.teams.isHomeUser(userId)) return { user, tenantId: t.id };
    }
    return undefined;
  }

  /** The directory a chat was created in; the default tenant's when none holds it (its 404 follows). */
  holdingChat(chatId: string): TeamsDirectory {
    return this.list().find((t) => t.teams.chats.has(chatId))?.teams ?? this.defaultTenant.teams;
  }

  /** The directory a team was created in; the default tenant's when none holds it (its 404 follows). */
  holdingTeam(teamId: string): TeamsDirectory {
    return this.list().find((t) => t.teams.teams.has(teamId))?.teams ?? this.defaultTenant.teams;
  }

  /**
   * A chat as a tenant's caller sees it: one of its own, or another tenant's chat one of its users is a member
   * of (with the directory that holds it, whose messages the read APIs page through); Graph's 404 otherwise.
   */
  chatSeenBy(tenantId: string, chatId: string): { chat: SimChat; teams: TeamsDirectory } {
    const teams = this.holdingChat(chatId);
    const chat = teams.chat(chatId);
    if (!tenantsOfChat(chat).has(this.require(tenantId).id)) throw notFound(`Chat '${chatId}' was not found.`);
    return { chat, teams };
  }

  /**
   * Whether a resource names a chat, team or user that another tenant holds and the caller's tenant cannot see
   * (a subscription on it is refused). Ids no tenant holds are not judged: the simulator accepts subscriptions on
   * chats it has not seen yet, as it always did.
   */
  hiddenFrom(tenantId: string, ids: ResourceIds): boolean {
    const own = this.require(tenantId);
    if (ids.chatId) {
      const holder = this.list().find((t) => t.teams.chats.has(ids.chatId ?? ''));
      const chat = holder?.teams.chats.get(ids.chatId);
      if (chat && !tenantsOfChat(chat).has(own.id)) return true;
    }
    if (ids.teamId) {
      const holder = this.list().find((t) => t.teams.teams.has(ids.teamId ?? ''));
      if (holder && holder !== own) return true;
    }
    if (ids.userId && !own.teams.users.has(ids.userId) && this.#homeOf(ids.userId)) return true;
    return false;
  }
}
