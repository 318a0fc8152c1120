import { RelayError } from '../../shared/errors.js';

/** A step of a chaos run failed: the simulator's driver refused a call, or a condition was not met in time. */
export class ChaosStepError extends RelayError {
  constructor(message: string) {
    super('ERR_CHAOS_STEP', message);
  }
}
