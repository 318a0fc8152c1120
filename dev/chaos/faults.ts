import type { Driver } from './driver.js';
import type { Fault } from './plan.js';
import type { HostProcess } from './processes.js';
import { subscriptionAt, type RunTenants } from './run-tenants.js';
import { sleep, waitUntil } from './wait.js';

/** What a fault acts on, and the promises by which a fault holds back the host's return and the activity. */
export interface FaultEnv {
  /** Settles when the host is back from a long downtime that runs in the background. */
  hostBack: Promise<void>;
  /** The activity waits for this before each operation. */
  activityGate: Promise<void>;
  deliveriesIdle(): Promise<boolean>;
  readonly driver: Driver;
  /** The run's tenants: a fault's subscription index counts the desired subscriptions of each in turn. */
  readonly tenants: RunTenants;
  readonly host: HostProcess;
  readonly log: (line: string) => void;
  /** Storage stops for `downMs` and comes back on the same data (ChaosStack.restartStorage). */
  restartAzurite(downMs: number): Promise<void>;
  /** The certificates cannot be read for `forMs` from a host restart on (ChaosStack.certificatesUnreadable). */
  certificatesUnreadable(forMs: number): Promise<void>;
}

/** Injects one fault and undoes it; false when it could not apply (e.g. the subscription to remove was already gone). */
export async function inject(env: FaultEnv, fault: Fault): Promise<boolean> {
  const { driver, host } = env;
  // A fault that acts on the host (or one of its instances) waits for a long downtime to end.
  if (fault.kind === 'hostKill' || fault.kind === 'hostKillMidBackfill' || fault.kind === 'certUnreadable' || fault.kind === 'instanceKill') await env.hostBack;
  switch (fault.kind) {
    case 'hostKill':
      await host.kill();
      if (fault.downMs > 10_000) env.hostBack = sleep(fault.downMs).then(() => host.start());
      else {
        await sleep(fault.downMs);
        await host.start();
      }
      return true;
    case 'hostKillMidBackfill': {
      const id = await subscriptionAt(driver, fault.subscription, env.tenants);
      if (!id) return false;
      // The recreation's window becomes a gap at the app's next heartbeat (each minute).
      const opened = host.waitFor((l) => l.event === 'backfill.gap_opened', 150_000, 'backfill.gap_opened');
      await driver.call('POST', `/subscriptions/${id}/lifecycle`, { lifecycleEvent: 'subscriptionRemoved' });
      if (
        !(await opened.then(
          () => true,
          () => false,
        ))
      )
        return false;
      await sleep(fault.afterGapMs);
      await host.kill();
      await sleep(500);
      await host.start();
      return true;
    }
    case 'azuriteRestart':
      await env.restartAzurite(fault.downMs);
      return true;
    case 'subscriptionsThrottle':
      await driver.call('POST', '/faults', { count: fault.count, status: fault.status, retryAfterSeconds: fault.retryAfterSeconds });
      return true;
    case 'slowEndpoint':
      await driver.call('PATCH', '/delivery', { requestTimeoutMs: fault.requestTimeoutMs });
      await sleep(fault.forMs);
      await driver.call('PATCH', '/delivery', { requestTimeoutMs: 10_000 });
      return true;
    case 'duplicateDelivery':
      await driver.call('PATCH', '/delivery', { duplicateRate: fault.rate });
      await sleep(fault.forMs);
      await driver.call('PATCH', '/delivery', { duplicateRate: 0 });
      return true;
    case 'certUnreadable':
      await env.certificatesUnreadable(fault.forMs);
      return true;
    case 'clockAdvance': {
      // Graph measures its retry window on the simulated clock: a jump while a delivery waits for a retry
      // would count as half an hour of failed retries and drop it. Jump when nothing is pending.
      let open = () => {};
      env.activityGate = new Promise<void>((resolve) => (open = resolve));
      try {
        await waitUntil(() => env.deliveriesIdle(), 300_000, 'Graph to have no delivery pending').catch(() => {});
        await driver.call('POST', '/clock/advance', { minutes: fault.minutes });
      } finally {
        open();
      }
      return true;
    }
    case 'instanceKill':
      return host.killInstance(fault.target);
    case 'subscriptionRemoved': {
      const id = await subscriptionAt(driver, fault.subscription, env.tenants);
      if (!id) return false;
      await driver.call('POST', `/subscriptions/${id}/lifecycle`, { lifecycleEvent: 'subscriptionRemoved' });
      return true;
    }
  }
}
