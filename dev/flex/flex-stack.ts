import { join } from 'node:path';
import { isDevelopmentStorage, parseStorageConnection } from '../../shared/config/storage-connection.js';
import { createQueueServiceClient } from '../../shared/config/storage-clients.js';
import { isPortOpen, startAzurite, type AzuriteProcess } from '../azurite/azurite-process.js';
import { describeApp } from './describe-app.js';
import type { InstanceCommand } from './flex-instance.js';
import { startFlexTopology, type FlexTopology } from './flex-topology.js';

/** Route instances a busy partition runs by default (the "N instances"). */
export const DEFAULT_ROUTE_INSTANCES = 2;

export interface FlexStackOptions {
  readonly appDir: string;
  readonly port: number;
  /** The settings the app runs with (for the scale controller's queue reads: the connections' settings). */
  readonly settings: Record<string, string>;
  /** start-local's arguments and environment for the app's host; `--group`/`--describe` and `--port 0` are added. */
  readonly host: InstanceCommand;
  /** Instances of each route partition while it has work; default 2. */
  readonly routeInstances?: number;
  readonly idleMs?: number;
  readonly pollMs?: number;
  readonly write?: (line: string) => void;
  readonly stderr?: (text: string) => void;
}

export interface FlexStack extends FlexTopology {
  stop(): Promise<void>;
}

/** Whether a group is one of the route function's partitions (`function:routeNotifications`, `function:routeNotifications1`…). */
export const isRouteGroup = (group: string): boolean => /^function:routeNotifications\d*$/.test(group);

/**
 * The app on Flex's topology locally (docs/local-host.md "Flex topology"): Azurite started first when storage is
 * UseDevelopmentStorage=true (the instances share it), the app indexed by its host, then each group in its own
 * processes, scaled on its queue or timer, HTTP behind one front door on `port`.
 */
export async function startFlexStack(options: FlexStackOptions): Promise<FlexStack> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = (level: string, event: string, fields: Record<string, unknown>) => write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
  let azurite: AzuriteProcess | undefined;
  if (isDevelopmentStorage(options.settings.AzureWebJobsStorage) && !(await isPortOpen(10001))) {
    const location = join(options.appDir, '.local', 'azurite');
    azurite = await startAzurite({ location, ports: { blob: 10000, queue: 10001, table: 10002 } });
    log('info', 'host.azurite_started', { location });
  }
  try {
    const command = (extra: readonly string[]): InstanceCommand => ({ ...options.host, args: [...options.host.args, ...extra] });
    const functions = await describeApp(command([]));
    const clients = new Map<string, ReturnType<typeof createQueueServiceClient>>();
    const queueDepth = async (connection: string, queueName: string) => {
      let client = clients.get(connection);
      if (!client) {
        client = createQueueServiceClient(parseStorageConnection(options.settings, options.settings[connection], connection));
        clients.set(connection, client);
      }
      try {
        return (await client.getQueueClient(queueName).getProperties()).approximateMessagesCount ?? 0;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return 0;
        throw e;
      }
    };
    const routeInstances = options.routeInstances ?? DEFAULT_ROUTE_INSTANCES;
    const topology = await startFlexTopology({
      functions,
      port: options.port,
      queueDepth,
      instanceCommand: (group) => {
        const c = command(['--group', group, '--port', '0']);
        return { ...c, env: { ...c.env, FUNCTIONS_TARGET_GROUP: group } };
      },
      instancesWhenBusy: (group) => (isRouteGroup(group) ? routeInstances : 1),
      ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      log,
      forward: write,
      stderr: options.stderr ?? ((text) => process.stderr.write(text)),
    });
    return {
      ...topology,
      instances: () => topology.instances(),
      stop: async () => {
        await topology.stop();
        await azurite?.stop();
      },
    };
  } catch (e) {
    await azurite?.stop();
    throw e;
  }
}
