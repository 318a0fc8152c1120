import type { App } from '../app/create-app.js';
import { createBlobServiceClient } from '../config/storage-clients.js';
import type { Logger } from '../log.js';
import { TenantPurge } from './tenant-purge.js';

/** The purge of a tenant over the app's stores. */
export function createTenantPurge(app: App, logger: Logger): TenantPurge {
  const { settings } = app;
  return new TenantPurge({
    records: app.subscriptions.records,
    gaps: app.gaps,
    pieces: app.backfill.pieces,
    deliveries: app.deliveries,
    memberships: app.memberships,
    routedEvents: app.routedEvents,
    payloads: createBlobServiceClient(settings.storage).getContainerClient(settings.eventsContainer),
    logger,
  });
}
