import type { ContainerClient } from '@azure/storage-blob';
import type { DeliveryLog } from '../backfill/delivery-log.js';
import type { GapLog } from '../backfill/gap-log.js';
import type { MembershipLog } from '../backfill/membership-log.js';
import type { PieceStore } from '../backfill/piece-store.js';
import type { Logger } from '../log.js';
import { deleteTenantEventPayloads } from '../route/event-payload-retention.js';
import type { TableRoutedEventLog } from '../route/routed-event-log.js';
import type { SubscriptionRecord } from '../subscriptions/subscription-records.js';

/** Where a tenant's data lies: the app's stores. */
export interface TenantPurgeStores {
  /** The subscription records (SUBSCRIPTIONS_TABLE): read to find the tenant's, then deleted. */
  readonly records: { list(): Promise<SubscriptionRecord[]>; delete(name: string): Promise<boolean> };
  readonly gaps: Pick<GapLog, 'deleteOf'>;
  readonly pieces: Pick<PieceStore, 'deleteAll'>;
  readonly deliveries: Pick<DeliveryLog, 'forget'>;
  readonly memberships: Pick<MembershipLog, 'deleteTenant'>;
  readonly routedEvents: Pick<TableRoutedEventLog, 'deleteTenant'>;
  /** EVENTS_CONTAINER: the payload blobs of events over 64 KiB. */
  readonly payloads: ContainerClient;
  readonly logger: Logger;
}

/** How many rows and blobs of the tenant a purge deleted. */
export interface TenantPurgeReport {
  readonly subscriptionRecords: number;
  readonly gaps: number;
  readonly deliveries: number;
  readonly memberships: number;
  readonly dedupRows: number;
  readonly payloadBlobs: number;
}

/** The names of a tenant's entries: those it is desired under now, and any record named `<name>@<tenant id>` (an entry since dropped from the file). */
export function tenantRecordNames(tenantId: string, desiredNames: readonly string[], recordNames: readonly string[]): string[] {
  const suffix = `@${tenantId.toLowerCase()}`;
  return [...new Set([...desiredNames, ...recordNames.filter((n) => n.toLowerCase().endsWith(suffix))])];
}

/**
 * `tenants remove --purge`: deletes what the relay keeps of a removed tenant: its backfill gaps and their
 * pieces, what is noted of its subscriptions' deliveries, its chats' remembered memberships, its
 * de-duplication rows, its event payload blobs and, last, its subscription records (which name the
 * subscription ids its deliveries are found by: a purge that fails half-way runs again whole). The tenant's
 * registry row is not the purge's: it stays, `removed` with `purgedAt`, for audit.
 */
export class TenantPurge {
  readonly #s: TenantPurgeStores;

  constructor(stores: TenantPurgeStores) {
    this.#s = stores;
  }

  /** Purges the tenant; `desiredNames` are the names of its desired entries (see tenantRecordNames). */
  async purge(tenantId: string, desiredNames: readonly string[]): Promise<TenantPurgeReport> {
    const id = tenantId.toLowerCase();
    const all = await this.#s.records.list();
    const names = tenantRecordNames(
      id,
      desiredNames,
      all.map((r) => r.name),
    );
    const own = all.filter((r) => names.includes(r.name));
    const subscriptionIds = [...new Set(own.flatMap((r) => [r.subscriptionId, r.gapSubscriptionId].filter((s): s is string => !!s)))];
    const gaps = await this.#s.gaps.deleteOf(names, this.#s.pieces);
    const deliveries = await this.#s.deliveries.forget(subscriptionIds);
    const memberships = await this.#s.memberships.deleteTenant(id);
    const dedupRows = await this.#s.routedEvents.deleteTenant(id);
    const payloadBlobs = await deleteTenantEventPayloads(this.#s.payloads, id);
    let subscriptionRecords = 0;
    for (const r of own) subscriptionRecords += await this.#deleteRecord(r.name);
    const report = { subscriptionRecords, gaps, deliveries, memberships, dedupRows, payloadBlobs };
    this.#s.logger.warn('tenants.purged', { tenantId: id, ...report });
    return report;
  }

  async #deleteRecord(name: string): Promise<number> {
    return (await this.#s.records.delete(name)) ? 1 : 0;
  }
}
