import { randomUUID } from 'node:crypto';
import { RelayError } from '../../shared/errors.js';
import { HostConfigError } from './host-errors.js';
import type { CoreInvocationContext, FunctionRegistry, InvocationResponse, Registration, TypedData } from './core-api.js';
import type { HostLog } from './host-log.js';

export interface InvocationInput {
  readonly inputData: { name: string; data: TypedData }[];
  readonly triggerMetadata?: Record<string, TypedData>;
}

export type InvocationOutcome =
  | { readonly ok: true; readonly invocationId: string; readonly response: InvocationResponse; readonly durationMs: number }
  | { readonly ok: false; readonly invocationId: string; readonly error: Error; readonly durationMs: number };

/** An invocation ran past host.json's functionTimeout. */
export class FunctionTimeoutError extends RelayError {
  constructor(message: string) {
    super('ERR_FUNCTION_TIMEOUT', message);
  }
}

/** A duration as .NET prints a TimeSpan: "00:00:01", "00:00:00.5000000", "1.00:00:00". */
export function formatTimeSpan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(totalSeconds / 86_400);
  const clock = `${two(Math.floor(totalSeconds / 3600) % 24)}:${two(Math.floor(totalSeconds / 60) % 60)}:${two(totalSeconds % 60)}`;
  const fraction = ms % 1000 ? `.${String(Math.round((ms % 1000) * 10_000)).padStart(7, '0')}` : '';
  return `${days ? `${days}.` : ''}${clock}${fraction}`;
}

/**
 * Runs one invocation the way the Node.js worker does: the library's invocation model converts the inputs,
 * preInvocation hooks run, the handler runs, postInvocation hooks run, the model converts the result.
 * With `timeoutMs` (host.json functionTimeout), an invocation still running then fails as in the host, with
 * "Timeout value of … was exceeded by function: Functions.<name>", and an error line saying so. The Azure
 * host then restarts the Node.js worker process, which ends the handler and fails every other invocation in
 * that worker: those fail here too (`worker.restarted`). The local host runs the app in its own process and
 * cannot end the handlers: they run on, their results ignored, and the app's memory is not reset.
 */
export async function invokeFunction(
  registry: FunctionRegistry,
  registration: Registration,
  input: InvocationInput,
  log: HostLog,
  appHookData: Record<string, unknown>,
  timeoutMs?: number,
): Promise<InvocationOutcome> {
  const invocationId = randomUUID();
  const started = performance.now();
  const run = runInvocation(registry, registration, input, log, appHookData, invocationId, started);
  // Ended early when the worker restarts for another invocation's timeout.
  let untrack: () => void = () => undefined;
  const restarted = new Promise<InvocationOutcome>((resolve) => {
    untrack = registry.worker.track(invocationId, (error) => resolve({ ok: false, invocationId, error, durationMs: performance.now() - started }));
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<InvocationOutcome>((resolve) => {
    if (timeoutMs === undefined) return;
    timer = setTimeout(() => {
      const name = registration.metadata.name;
      const limit = formatTimeSpan(timeoutMs);
      log.host('error', 'function.timeout', {
        function: name,
        invocationId,
        message: `Timeout value of ${limit} exceeded by function '${name}' (Id: '${invocationId}'). Initiating cancellation.`,
        note: 'As in Azure, the worker is restarted: every other invocation in flight fails too. The local host cannot end the handlers, which run on in its process with their results ignored.',
      });
      const failed = registry.worker.restart({ invocationId, functionName: name });
      log.host('error', 'worker.restarted', { cause: invocationId, failedInvocations: failed });
      resolve({ ok: false, invocationId, error: new FunctionTimeoutError(`Timeout value of ${limit} was exceeded by function: Functions.${name}`), durationMs: performance.now() - started });
    }, timeoutMs);
  });
  try {
    return await Promise.race([run, timedOut, restarted]);
  } finally {
    clearTimeout(timer);
    untrack();
  }
}

async function runInvocation(
  registry: FunctionRegistry,
  registration: Registration,
  input: InvocationInput,
  log: HostLog,
  appHookData: Record<string, unknown>,
  invocationId: string,
  started: number,
): Promise<InvocationOutcome> {
  const name = registration.metadata.name;
  const model = registry.programmingModel;
  const failed = (e: unknown): InvocationOutcome => ({ ok: false, invocationId, error: e instanceof Error ? e : new Error(String(e)), durationMs: performance.now() - started });
  try {
    if (!model) throw new HostConfigError('No programming model was registered: is @azure/functions v4 loaded by the app?');
    const coreCtx: CoreInvocationContext = {
      invocationId,
      request: { inputData: input.inputData, ...(input.triggerMetadata ? { triggerMetadata: input.triggerMetadata } : {}) },
      metadata: registration.metadata,
      log: (level, _category, message) => log.function(name, invocationId, level, message),
    };
    const invocation = model.getInvocationModel(coreCtx);
    const { context, inputs } = await invocation.getArguments();

    const pre: Record<string, unknown> = {
      invocationContext: context,
      inputs,
      functionCallback: registration.callback,
      hookData: {},
      appHookData,
    };
    coreCtx.state = 'preInvocationHooks';
    for (const hook of registry.hooks.preInvocation) await hook(pre);

    coreCtx.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      result = await invocation.invokeFunction(context, pre.inputs as unknown[], pre.functionCallback as (...a: unknown[]) => unknown);
    } catch (e) {
      error = e;
    }

    const post: Record<string, unknown> = { invocationContext: context, inputs: pre.inputs, result, error, hookData: pre.hookData, appHookData };
    coreCtx.state = 'postInvocationHooks';
    for (const hook of registry.hooks.postInvocation) await hook(post);
    if (post.error !== undefined && post.error !== null) return failed(post.error);

    const response = await invocation.getResponse(context, post.result);
    return { ok: true, invocationId, response, durationMs: performance.now() - started };
  } catch (e) {
    return failed(e);
  }
}

/** The one structured line per invocation. */
export function logInvocation(log: HostLog, functionName: string, trigger: string, outcome: InvocationOutcome, fields: Record<string, unknown> = {}): void {
  log.host(outcome.ok ? 'info' : 'error', 'invocation', {
    function: functionName,
    invocationId: outcome.invocationId,
    trigger,
    status: outcome.ok ? 'succeeded' : 'failed',
    durationMs: Math.round(outcome.durationMs * 100) / 100,
    ...fields,
    ...(outcome.ok ? {} : { error: outcome.error.message }),
  });
}
