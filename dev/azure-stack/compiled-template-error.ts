import { RelayError } from '../../shared/errors.js';

/** A compiled template the Azure-shaped stack cannot deploy as it stands: the message names what is missing or wrong. */
export class CompiledTemplateError extends RelayError {
  constructor(message: string) {
    super('ERR_COMPILED_TEMPLATE', message);
  }
}
