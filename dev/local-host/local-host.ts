import { join } from 'node:path';
import { isDevelopmentStorage, parseStorageConnection } from '../../shared/config/storage-connection.js';
import { createBlobServiceClient, createQueueServiceClient } from '../../shared/config/storage-clients.js';
import { isPortOpen, startAzurite, type AzuriteProcess } from '../azurite/azurite-process.js';
import { loadAppSettings } from './app-settings.js';
import { triggerOf, type FunctionRegistry } from './core-api.js';
import { createHostLog, type HostLog } from './host-log.js';
import { readHostOptions } from './host-options.js';
import { HttpListener } from './http-listener.js';
import { describeFunctions, indexFunctionApp, resolveSettingExpressions, type IndexedFunction } from './function-index.js';
import { parseTimerSchedule } from './timer-schedule.js';
import { BlobScheduleMonitor, HOSTS_CONTAINER, hostId } from './schedule-monitor.js';
import { loadFunctionKeys, SECRETS_CONTAINER } from './function-keys.js';
import { resolveKeyVaultReferences, type KeyVaultReference } from './key-vault-references.js';
import { QueueListener } from './queue-listener.js';
import { ListenerFaultError, storageFailure } from './storage-errors.js';
import { TimerListener } from './timer-listener.js';
import { HostConfigError, HostStorageError } from './host-errors.js';

export interface LocalHostOptions {
  readonly appDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly log?: HostLog;
  /** App settings used when neither local.settings.json nor the environment sets them. */
  readonly defaultSettings?: Record<string, string>;
  /** Where the human-readable start-up summary goes; stderr by default, so stdout stays JSON lines. */
  readonly banner?: (text: string) => void;
  /**
   * `Development` (default): as Core Tools runs an app (AZURE_FUNCTIONS_ENVIRONMENT=Development, no function
   * keys). `Production`: as Azure does (AZURE_FUNCTIONS_ENVIRONMENT=Production, no local default storage,
   * function keys enforced from `azure-webjobs-secrets` in AzureWebJobsStorage).
   */
  readonly environment?: 'Development' | 'Production';
  /**
   * The site's app settings, exactly, as App Service gives them (the Azure-shaped stack: the compiled template's):
   * neither local.settings.json nor `defaultSettings` is read. The environment still is, as the platform's own
   * variables (IDENTITY_ENDPOINT…) are; these win over it.
   */
  readonly appSettings?: Readonly<Record<string, string>>;
  /** In Production, how the host reads a Key Vault reference's secret (the site's identity); absent: none can be read. */
  readonly readSecret?: (reference: KeyVaultReference) => Promise<string>;
}

export interface LocalHost {
  readonly url: string;
  /**
   * Settles when the host must shut down on its own, as Azure's does on an unhandled exception (a queue
   * listener faulted by a storage 403, say); it has logged `host.unhandled_exception` by then.
   */
  readonly faulted: Promise<Error>;
  stop(): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 100 * 1024 * 1024;
/** How long the worker gives appTerminate hooks when the host shuts down. */
const APP_TERMINATE_MS = 5000;

/** The app settings the host runs with (Key Vault references read in Production), its host.json options and log. */
async function resolveHostSettings(options: LocalHostOptions) {
  const appDir = options.appDir;
  const production = options.environment === 'Production';
  const loaded = options.appSettings
    ? { ...(process.env as Record<string, string>), ...options.appSettings, AZURE_FUNCTIONS_ENVIRONMENT: production ? 'Production' : 'Development' }
    : loadAppSettings(appDir, process.env, options.defaultSettings, production ? 'Production' : 'Development');
  // In Production, as App Service does before the host starts: each Key Vault reference read with the site's
  // identity, one that cannot be read left as its text (the app then refuses it, naming the setting). Core
  // Tools resolves none, and neither does a Development run. The host's own options (host.json overrides in
  // app settings) are read after, from the resolved values, as the host sees them.
  // Without a reader, as on a site without an identity that can read the vault.
  const noIdentity = () => Promise.reject(Object.assign(new Error('No identity that can read Key Vault was given to the host.'), { code: 'NoIdentity' }));
  const references = production ? await resolveKeyVaultReferences(loaded, options.readSecret ?? noIdentity) : undefined;
  const settings = references?.settings ?? loaded;
  const hostOptions = readHostOptions(appDir, { settings });
  const log = options.log ?? createHostLog(undefined, hostOptions.logLevels);
  if (references && references.resolved.length > 0) log.host('info', 'host.key_vault_references_resolved', { settings: references.resolved });
  for (const u of references?.unresolved ?? []) log.host('warn', 'host.key_vault_reference_unresolved', { setting: u.setting, reason: u.reason });
  Object.assign(process.env, settings);
  if (settings.WEBSITE_TIME_ZONE) {
    throw new HostConfigError('WEBSITE_TIME_ZONE is set, but Flex Consumption does not support it: timers run in UTC there, and so they do in the local host. Remove it and write schedules in UTC.');
  }
  return { settings, hostOptions, log, production };
}

/**
 * The app's functions as the host indexes them with these settings (FUNCTIONS_TARGET_GROUP, host.json
 * `functions`, disabled functions applied), without starting any listener: what the host syncs to the
 * platform's scale controller in Azure, and what the local Flex topology scales on.
 */
export async function describeLocalApp(options: LocalHostOptions): Promise<IndexedFunction[]> {
  const { settings, hostOptions, log } = await resolveHostSettings(options);
  const registry = await indexFunctionApp({ appDir: options.appDir, settings, functionsList: hostOptions.functions, log });
  // The worker starts the app as it indexes it: an app that refuses to start (a bad setting) fails here.
  const appHookData: Record<string, unknown> = {};
  for (const hook of registry.hooks.appStart) await hook({ hookData: {}, appHookData, functionAppDirectory: options.appDir });
  await runAppTerminateHooks(registry, appHookData, log);
  return describeFunctions(registry, settings);
}

/** As the worker does when the host stops it: appTerminate hooks get 5 seconds in all, then the process goes on without them. */
async function runAppTerminateHooks(registry: FunctionRegistry, appHookData: Record<string, unknown>, log: HostLog): Promise<void> {
  const hooks = (async () => {
    for (const hook of registry.hooks.appTerminate) await hook({ hookData: {}, appHookData });
  })();
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), APP_TERMINATE_MS)));
  const ended = await Promise.race([hooks.then(() => 'done' as const), outOfTime]).catch((e: unknown) => {
    log.host('error', 'host.app_terminate_failed', { error: (e as Error).message });
    return 'failed' as const;
  });
  clearTimeout(timer);
  if (ended === 'timeout') log.host('warn', 'host.app_terminate_timeout', { afterMs: APP_TERMINATE_MS });
}

/**
 * A local Azure Functions host for the Node.js v4 programming model: loads the app's own registrations
 * and serves their HTTP, storage queue and timer triggers. Starts Azurite (data under .local/) when
 * AzureWebJobsStorage is UseDevelopmentStorage=true and nothing listens on its ports yet.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const appDir = options.appDir;
  const { settings, hostOptions, log, production } = await resolveHostSettings(options);
  for (const n of hostOptions.notes) log.host('info', 'host.json_not_applied', { setting: n.setting, why: n.why });

  let azurite: AzuriteProcess | undefined;
  if (isDevelopmentStorage(settings.AzureWebJobsStorage)) {
    if (await isPortOpen(10001)) {
      log.host('info', 'host.azurite_reused', { note: 'something already listens on 127.0.0.1:10001; using it as Azurite' });
    } else {
      const location = join(appDir, '.local', 'azurite');
      azurite = await startAzurite({ location, ports: { blob: 10000, queue: 10001, table: 10002 } });
      log.host('info', 'host.azurite_started', { location, blob: 'http://127.0.0.1:10000', queue: 'http://127.0.0.1:10001', table: 'http://127.0.0.1:10002' });
    }
  }

  try {
    const registry = await indexFunctionApp({ appDir, settings, functionsList: hostOptions.functions, log });

    const appHookData: Record<string, unknown> = {};
    for (const hook of registry.hooks.appStart) await hook({ hookData: {}, appHookData, functionAppDirectory: appDir });

    const maxBodyBytes = Number(settings.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT ?? DEFAULT_BODY_LIMIT) || DEFAULT_BODY_LIMIT;
    // In Production, as in Azure, the host's keys (created on first start) guard every function that is not anonymous.
    const keys = production
      ? await loadFunctionKeys(
          createBlobServiceClient(parseStorageConnection(settings, settings.AzureWebJobsStorage)).getContainerClient(SECRETS_CONTAINER),
          hostId(settings, appDir),
          registry.registrations.filter((r) => Object.values(r.metadata.bindings).some((b) => b.type.toLowerCase() === 'httptrigger')).map((r) => r.metadata.name),
        )
      : undefined;
    if (keys) log.host('info', 'host.keys_loaded', { where: `${SECRETS_CONTAINER}/${hostId(settings, appDir)}/`, functions: [...keys.byFunction.keys()] });
    const http = new HttpListener({
      keys,
      registry,
      log,
      routePrefix: hostOptions.routePrefix,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 7071,
      maxBodyBytes,
      appHookData,
      functionTimeoutMs: hostOptions.functionTimeoutMs,
    });

    let reportFault: (error: Error) => void = () => undefined;
    const faulted = new Promise<Error>((resolve) => {
      let reported = false;
      reportFault = (error) => {
        if (reported) return;
        reported = true;
        log.host('error', 'host.unhandled_exception', {
          message: 'An unhandled exception has occurred. Host is shutting down.',
          code: (error as { code?: string }).code,
          error: error.message,
          ...(error instanceof ListenerFaultError
            ? { function: error.functionName, queue: error.queueName, operation: error.operation, status: error.failure.status, storageErrorCode: error.failure.code }
            : {}),
        });
        resolve(error);
      };
    });

    const queueListeners: QueueListener[] = [];
    // The 10-minute lease a crashed host leaves on its messages, shortened only where a harness compresses time (chaos run).
    const leaseSeconds = Number(process.env.LOCAL_HOST_QUEUE_LEASE_SECONDS) || undefined;
    const timers: { name: string; listener: TimerListener }[] = [];
    // Timer statuses live in the host's storage; made only when there is a timer.
    let monitor: BlobScheduleMonitor | undefined;
    const scheduleMonitor = () =>
      (monitor ??= new BlobScheduleMonitor(
        createBlobServiceClient(parseStorageConnection(settings, settings.AzureWebJobsStorage)).getContainerClient(HOSTS_CONTAINER),
        hostId(settings, appDir),
        (timerName, error) => log.host('error', 'timer.status_update_failed', { timer: timerName, error: error.message.split('\n')[0] }),
      ));
    const queueClients = new Map<string, ReturnType<typeof createQueueServiceClient>>();
    for (const registration of registry.registrations) {
      const [triggerName, binding] = triggerOf(registration.metadata);
      const type = binding.type.toLowerCase();
      if (type === 'queuetrigger') {
        const connection = (binding.connection as string | undefined) || 'AzureWebJobsStorage';
        let client = queueClients.get(connection);
        if (!client) {
          client = createQueueServiceClient(parseStorageConnection(settings, settings[connection], connection));
          queueClients.set(connection, client);
        }
        queueListeners.push(
          new QueueListener({
            registry,
            registration,
            triggerName,
            queueName: resolveSettingExpressions(String(binding.queueName), settings),
            queueService: client,
            queueOptions: hostOptions.queues,
            log,
            appHookData,
            onFault: (error) => reportFault(error),
            functionTimeoutMs: hostOptions.functionTimeoutMs,
            ...(leaseSeconds ? { leaseSeconds } : {}),
          }),
        );
      } else if (type === 'timertrigger') {
        timers.push({
          name: registration.metadata.name,
          listener: new TimerListener({
            registry,
            registration,
            triggerName,
            schedule: parseTimerSchedule(resolveSettingExpressions(String(binding.schedule), settings)),
            runOnStartup: binding.runOnStartup === true,
            useMonitor: binding.useMonitor !== false,
            monitor: scheduleMonitor(),
            log,
            appHookData,
            functionTimeoutMs: hostOptions.functionTimeoutMs,
          }),
        });
      } else if (type !== 'httptrigger') {
        log.host('warn', 'host.trigger_not_supported', { function: registration.metadata.name, trigger: binding.type });
      }
    }

    const url = await http.listen();
    for (const q of queueListeners) q.start();
    try {
      // Side by side, as the host starts its listeners.
      await Promise.all(timers.map((t) => t.listener.start()));
    } catch (e) {
      await Promise.all([http.close(), ...queueListeners.map((q) => q.stop()), ...timers.map((t) => t.listener.stop())]);
      const f = storageFailure(e);
      const cause = f.status ? `storage answered ${f.status}${f.code ? ` ${f.code}` : ''}${f.message ? ` (${f.message})` : ''}` : f.message;
      throw new HostStorageError(`A timer could not read its schedule status from host storage: ${cause}. Check AzureWebJobsStorage (its key or SAS, or the identity's Storage Blob Data Owner role).`);
    }

    log.host('info', 'host.started', {
      url,
      http: http.routes.map((r) => ({ function: r.name, methods: r.methods, url: url + r.path })),
      queues: queueListeners.map((q) => ({ function: q.functionName, queue: q.queueName })),
      timers: timers.map((t) => ({ function: t.name, next: t.listener.nextOccurrence.toISOString(), scheduleMonitor: t.listener.monitorOn })),
      storage: azurite ? 'azurite (.local/azurite)' : isDevelopmentStorage(settings.AzureWebJobsStorage) ? 'azurite (already running)' : 'configured AzureWebJobsStorage',
    });

    const banner = [
      `Functions host listening on ${url}`,
      ...http.routes.map((r) => `  ${r.name.padEnd(16)} ${r.methods.join(',').padEnd(8)} ${url}${r.path}`),
      ...queueListeners.map((q) => `  ${q.functionName.padEnd(16)} queue    ${q.queueName}`),
      ...timers.map((t) => `  ${t.name.padEnd(16)} timer    next run ${t.listener.nextOccurrence.toISOString()}`),
      `  storage: ${azurite ? `Azurite on 127.0.0.1:10000-10002, data in ${join(appDir, '.local', 'azurite')}` : 'AzureWebJobsStorage as configured'}`,
      '  logs: one JSON object per line on stdout; Ctrl+C to stop',
    ];
    (options.banner ?? ((text: string) => process.stderr.write(text + '\n')))(banner.join('\n'));

    let stopping: Promise<void> | undefined;
    return {
      url,
      faulted,
      stop: () =>
        (stopping ??= (async () => {
          log.host('info', 'host.stopping', {});
          await Promise.all([http.close(), ...queueListeners.map((q) => q.stop()), ...timers.map((t) => t.listener.stop())]);
          await runAppTerminateHooks(registry, appHookData, log);
          await azurite?.stop();
          log.host('info', 'host.stopped', {});
        })()),
    };
  } catch (e) {
    await azurite?.stop();
    throw e;
  }
}
