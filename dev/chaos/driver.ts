import type { RecordedChange } from '../graph-simulator/change-log.js';
import type { DeliveryAttempt } from '../graph-simulator/delivery.js';
import { ChaosStepError } from './chaos-error.js';
import type { SimulatorProcess } from './processes.js';

/** The simulator's driver API: acts like Teams users and steers the simulator (dev/graph-simulator/driver-routes.ts). */
export class Driver {
  constructor(readonly url: string) {}

  /** One driver call; its JSON answer, or ChaosStepError when it fails. */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (res.status >= 300) throw new ChaosStepError(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/** Every subscription Graph holds and has not removed (in `tenantId` only, when given). */
export async function activeSubscriptions(driver: Driver, tenantId?: string): Promise<{ id: string; resource: string }[]> {
  const query = tenantId === undefined ? '' : `?tenantId=${encodeURIComponent(tenantId)}`;
  return (await driver.call<{ value: { id: string; resource: string }[] }>('GET', `/subscriptions${query}`)).value;
}

/**
 * Graph's delivery attempts, one line each, with what each batch carried (change type and resource, no
 * content): how a lost change's notification fared (given up, dropped, or answered 202).
 */
export async function deliveryLog(driver: Driver): Promise<unknown[]> {
  const { value } = await driver.call<{ value: (DeliveryAttempt & { items: { changeType?: string; resource?: string; lifecycleEvent?: string }[] })[] }>('GET', '/deliveries');
  return value.map(({ items, ...attempt }) => ({ ...attempt, items: items.map((i) => [i.lifecycleEvent ?? i.changeType, i.resource]) }));
}

/** The simulator process's control endpoint: every change Graph made, and whether it has nothing left to deliver or retry. */
export async function control(sim: SimulatorProcess): Promise<{ changes: RecordedChange[]; deliveriesIdle: boolean }> {
  const res = await fetch(`${sim.controlUrl}/changes`);
  return (await res.json()) as { changes: RecordedChange[]; deliveriesIdle: boolean };
}
