import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { deleteEntities } from '../util/delete-entities.js';
import { tableOnce } from '../util/table-once.js';

/** A chat member as the app last saw it: the conversationMember resource, by user. */
export interface KnownMember {
  readonly userId: string;
  /** The membership id Graph gave (the `members('…')` of its resource path). */
  readonly membershipId: string;
  readonly resource: Record<string, unknown>;
  readonly present: boolean;
}

interface Entity {
  partitionKey: string;
  rowKey: string;
  membershipId: string;
  resource: string;
  present: boolean;
  /** When the remembered change happened, when it was read from the chat's history (its `lastModifiedDateTime`). */
  changedAt?: string;
}

const tenantPrefix = (tenantId: string) => `member|${encodeURIComponent(tenantId.toLowerCase())}|`;
const partition = (tenantId: string, chatId: string) => `${tenantPrefix(tenantId)}${encodeURIComponent(chatId)}`;
/** Where versions before memberships were kept per tenant wrote them (`|` is encoded in a chat id: no clash). */
const legacyPartition = (chatId: string) => `member|${encodeURIComponent(chatId)}`;

/**
 * The last known membership of each chat as each tenant saw it (Table storage, partition per tenant and
 * chat, row per user): what the app routed as member events of that tenant and what a backfill read. A
 * removed member is in no Graph listing, so a membership diff needs this memory to tell who left during a
 * gap, and with which membership id. Per tenant: in a cross-tenant chat, another tenant's member event
 * remembered here would hide the change from this tenant's backfill (a loss for its consumers).
 */
export class MembershipLog {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  /**
   * The tenant's members of the chat, over what a version before the upgrade remembered of it for any
   * tenant (never written again): without that memory, a member who left during the first gap after the
   * upgrade would go unnoticed; the tenant's own record of a member wins.
   */
  async known(tenantId: string, chatId: string): Promise<Map<string, KnownMember>> {
    await this.#ensure();
    const out = new Map<string, KnownMember>();
    for (const key of [legacyPartition(chatId), partition(tenantId, chatId)]) {
      try {
        for await (const e of this.#table.listEntities<Entity>({ queryOptions: { filter: odata`PartitionKey eq ${key}` } })) {
          out.set(e.rowKey, { userId: e.rowKey, membershipId: e.membershipId, resource: JSON.parse(e.resource) as Record<string, unknown>, present: e.present });
        }
      } catch (e) {
        if (restStatus(e) !== 404) throw e;
      }
    }
    return out;
  }

  /**
   * Remembers a member's state. A change read from the chat's history carries its time, and one older than
   * the history change remembered already is left out: gaps are filled in any order, and the first gap's
   * addition read after the next gap's removal must not bring the member back. Read and written under the
   * row's etag, so two such writes at once keep the later change. A change without a time (notified, or
   * found by comparing members, but for a chat's first member, whose time is the chat's creation) is always
   * remembered, and clears the time.
   */
  async remember(tenantId: string, chatId: string, member: KnownMember): Promise<void> {
    await this.#ensure();
    const changedAt = typeof member.resource.lastModifiedDateTime === 'string' ? member.resource.lastModifiedDateTime : undefined;
    const entity: Entity = {
      partitionKey: partition(tenantId, chatId),
      rowKey: member.userId,
      membershipId: member.membershipId,
      resource: JSON.stringify(member.resource),
      present: member.present,
      ...(changedAt ? { changedAt } : {}),
    };
    if (changedAt === undefined) return void (await this.#table.upsertEntity(entity, 'Replace'));
    for (;;) {
      const stored = await this.#table.getEntity<Entity>(entity.partitionKey, entity.rowKey).catch((e: unknown) => {
        if (restStatus(e) === 404) return undefined;
        throw e;
      });
      if (stored?.changedAt !== undefined && Date.parse(stored.changedAt) > Date.parse(changedAt)) return;
      try {
        if (stored) await this.#table.updateEntity(entity, 'Replace', { etag: stored.etag });
        else await this.#table.createEntity(entity);
        return;
      } catch (e) {
        // Another write came first (412 on update, 409 on create): read it again and decide again.
        if (restStatus(e) !== 412 && restStatus(e) !== 409) throw e;
      }
    }
  }

  /**
   * Deletes everything remembered of a tenant's chats (a tenant purged): its partitions, `member|<tenant>|…`
   * (a range: `}` follows `|`). Memberships kept before they were per tenant name no tenant and stay. Returns how many rows.
   */
  deleteTenant(tenantId: string): Promise<number> {
    const prefix = tenantPrefix(tenantId);
    return deleteEntities(this.#table, odata`PartitionKey ge ${prefix} and PartitionKey lt ${`${prefix.slice(0, -1)}}`}`);
  }
}
