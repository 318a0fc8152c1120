import { WorkerInvocations } from './worker-invocations.js';
import { HostConfigError } from './host-errors.js';

/**
 * Our implementation of `@azure/functions-core`, the module the real Node.js worker injects. The
 * `@azure/functions` library calls it to register functions and hooks and to hand over its programming
 * model; the local host then invokes functions through that programming model, as the worker does.
 */

export interface BindingInfo {
  readonly type: string;
  readonly direction: 'in' | 'out' | 'inout';
  readonly [option: string]: unknown;
}

export interface FunctionMetadata {
  readonly name: string;
  readonly functionId?: string;
  readonly bindings: Readonly<Record<string, BindingInfo>>;
  readonly retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface Registration {
  readonly metadata: FunctionMetadata & { functionId: string };
  readonly callback: FunctionCallback;
}

/** The parts of the library's ProgrammingModel / InvocationModel that a worker calls. */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResponse>;
}
export interface ProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export interface TypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: unknown;
  [other: string]: unknown;
}
export interface InvocationResponse {
  readonly invocationId: string;
  readonly outputData?: { name: string; data: TypedData | null | undefined }[];
  readonly returnValue?: TypedData | null;
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export interface CoreInvocationContext {
  invocationId: string;
  request: { inputData: { name: string; data: TypedData }[]; triggerMetadata?: Record<string, TypedData> };
  metadata: FunctionMetadata;
  state?: string;
  log(level: LogLevel, category: 'user' | 'system' | 'customMetric', message: string): void;
}

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
export type HookCallback = (context: Record<string, unknown>) => unknown;

class Disposable {
  readonly #onDispose: () => void;
  constructor(onDispose: () => void) {
    this.#onDispose = onDispose;
  }
  dispose(): void {
    this.#onDispose();
  }
}

export class FunctionRegistry {
  readonly registrations: Registration[] = [];
  /** The invocations in flight in the worker (this process), which a functionTimeout restart fails together. */
  readonly worker = new WorkerInvocations();
  readonly hooks: Record<HookName, HookCallback[]> = {
    appStart: [],
    appTerminate: [],
    preInvocation: [],
    postInvocation: [],
    log: [],
  };
  programmingModel: ProgrammingModel | undefined;
  #locked = false;
  readonly #systemLog: (level: LogLevel, message: string) => void;

  constructor(systemLog: (level: LogLevel, message: string) => void) {
    this.#systemLog = systemLog;
  }

  /** After start-up, as in the worker, no more functions can be registered. */
  lock(): void {
    this.#locked = true;
  }

  /** The object `require('@azure/functions-core')` returns. */
  createModule(hostVersion: string): Record<string, unknown> {
    return {
      version: '3.10.1-local',
      hostVersion,
      registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) => this.#registerFunction(metadata, callback),
      registerHook: (name: HookName, callback: HookCallback) => {
        const list = this.hooks[name];
        if (!list) throw new RangeError(`"${String(name)}" is not a valid hook name.`);
        list.push(callback);
        return new Disposable(() => list.splice(list.indexOf(callback) >>> 0, 1));
      },
      setProgrammingModel: (model: ProgrammingModel) => {
        this.programmingModel = model;
      },
      getProgrammingModel: () => this.programmingModel,
      log: (level: LogLevel, _category: string, message: string) => this.#systemLog(level, message),
      Disposable,
    };
  }

  #registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (this.#locked) {
      throw new HostConfigError('A function can be registered only during app startup.');
    }
    const functionId = metadata.functionId ?? metadata.name;
    if (this.registrations.some((r) => r.metadata.functionId === functionId)) {
      throw new HostConfigError(`A function with the id "${functionId}" has already been registered.`);
    }
    const registration: Registration = { metadata: { ...metadata, functionId }, callback };
    this.registrations.push(registration);
    return new Disposable(() => {
      const i = this.registrations.indexOf(registration);
      if (i >= 0) this.registrations.splice(i, 1);
    });
  }
}

/** The binding that triggers a function (type ends in "Trigger"). */
export function triggerOf(metadata: FunctionMetadata): [name: string, binding: BindingInfo] {
  const entry = Object.entries(metadata.bindings).find(([, b]) => b.type.toLowerCase().endsWith('trigger'));
  if (!entry) throw new HostConfigError(`Function "${metadata.name}" has no trigger binding.`);
  return entry;
}
