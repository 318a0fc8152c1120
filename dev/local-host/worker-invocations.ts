import { RelayError } from '../../shared/errors.js';

/** An invocation ended because the worker process it ran in was restarted (another one exceeded functionTimeout). */
export class WorkerRestartedError extends RelayError {
  constructor(message: string) {
    super('ERR_WORKER_RESTARTED', message);
  }
}

/**
 * The invocations in flight in the (one) Node.js worker. When one exceeds functionTimeout the Azure host
 * restarts the worker process, and every other invocation in flight there fails with it: `restart` fails
 * them here the same way (their handlers, in this process, run on with their results ignored).
 */
export class WorkerInvocations {
  readonly #inFlight = new Map<string, (error: Error) => void>();

  /** Tracks an invocation until the returned function is called; `fail` ends it early with an error. */
  track(invocationId: string, fail: (error: Error) => void): () => void {
    this.#inFlight.set(invocationId, fail);
    return () => this.#inFlight.delete(invocationId);
  }

  /** Fails every invocation in flight but `cause`'s; answers their ids. */
  restart(cause: { readonly invocationId: string; readonly functionName: string }): string[] {
    const failed: string[] = [];
    for (const [id, fail] of [...this.#inFlight]) {
      if (id === cause.invocationId) continue;
      this.#inFlight.delete(id);
      failed.push(id);
      fail(new WorkerRestartedError(`The Node.js worker process was restarted: invocation ${cause.invocationId} of Functions.${cause.functionName} exceeded functionTimeout.`));
    }
    return failed;
  }
}
