import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
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
}

const partition = (chatId: string) => `member|${encodeURIComponent(chatId)}`;

/**
 * The last known membership of each chat (Table storage, partition per chat, row per user): what the app
 * routed as member events and what a backfill read. A removed member is in no Graph listing, so a
 * membership diff needs this memory to tell who left during a gap, and with which membership id.
 */
export class MembershipLog {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  async known(chatId: string): Promise<Map<string, KnownMember>> {
    await this.#ensure();
    const out = new Map<string, KnownMember>();
    try {
      for await (const e of this.#table.listEntities<Entity>({ queryOptions: { filter: odata`PartitionKey eq ${partition(chatId)}` } })) {
        out.set(e.rowKey, { userId: e.rowKey, membershipId: e.membershipId, resource: JSON.parse(e.resource) as Record<string, unknown>, present: e.present });
      }
    } catch (e) {
      if (restStatus(e) !== 404) throw e;
    }
    return out;
  }

  async remember(chatId: string, member: KnownMember): Promise<void> {
    await this.#ensure();
    const entity: Entity = { partitionKey: partition(chatId), rowKey: member.userId, membershipId: member.membershipId, resource: JSON.stringify(member.resource), present: member.present };
    await this.#table.upsertEntity(entity, 'Replace');
  }
}
