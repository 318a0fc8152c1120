import { randomUUID } from 'node:crypto';
import type { CoreInvocationContext, FunctionRegistry, InvocationResponse, Registration, TypedData } from './core-api.js';
import type { HostLog } from './host-log.js';

export interface InvocationInput {
  readonly inputData: { name: string; data: TypedData }[];
  readonly triggerMetadata?: Record<string, TypedData>;
}

export type InvocationOutcome =
  | { readonly ok: true; readonly invocationId: string; readonly response: InvocationResponse; readonly durationMs: number }
  | { readonly ok: false; readonly invocationId: string; readonly error: Error; readonly durationMs: number };

/**
 * Runs one invocation the way the Node.js worker does: the library's invocation model converts the inputs,
 * preInvocation hooks run, the handler runs, postInvocation hooks run, the model converts the result.
 */
export async function invokeFunction(
  registry: FunctionRegistry,
  registration: Registration,
  input: InvocationInput,
  log: HostLog,
  appHookData: Record<string, unknown>,
): Promise<InvocationOutcome> {
  const invocationId = randomUUID();
  const started = performance.now();
  const name = registration.metadata.name;
  const model = registry.programmingModel;
  try {
    if (!model) throw new Error('No programming model was registered: is @azure/functions v4 loaded by the app?');
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
    if (post.error !== undefined && post.error !== null) throw post.error;

    const response = await invocation.getResponse(context, post.result);
    return { ok: true, invocationId, response, durationMs: performance.now() - started };
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    return { ok: false, invocationId, error, durationMs: performance.now() - started };
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
