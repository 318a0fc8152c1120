import { RelayError } from '../../shared/errors.js';

/**
 * The app or its host configuration is something the local host will not run (host.json, local.settings.json,
 * package.json "main", a binding expression, a timer schedule, a function registration): it stops with a
 * message naming the mistake, as the Azure host would.
 */
export class HostConfigError extends RelayError {
  constructor(message: string) {
    super('ERR_HOST_CONFIG', message);
  }
}

/** Host storage (AzureWebJobsStorage) holds or answers something the host cannot use. */
export class HostStorageError extends RelayError {
  constructor(message: string) {
    super('ERR_HOST_STORAGE', message);
  }
}
