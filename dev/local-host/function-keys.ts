import { randomBytes } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { sameSecret } from '../http/same-secret.js';
import { HostConfigError } from './host-errors.js';

/** Where the host keeps its keys in AzureWebJobsStorage (`AzureWebJobsSecretStorageType=blob`, the default). */
export const SECRETS_CONTAINER = 'azure-webjobs-secrets';

/** An HTTP trigger's `authLevel`, as the library registers it (`anonymous`, `function` or `admin`). */
export type AuthLevel = 'anonymous' | 'function' | 'admin';

interface StoredKey {
  readonly name: string;
  readonly value: string;
  readonly encrypted: boolean;
}

/** The keys the host holds: the master key, the host's function keys (valid for every function) and each function's own. */
export interface FunctionKeys {
  readonly master: string;
  readonly host: readonly string[];
  readonly byFunction: ReadonlyMap<string, readonly string[]>;
}

function newKey(): string {
  return randomBytes(40).toString('base64url');
}

async function readJson<T>(container: ContainerClient, blob: string): Promise<T | undefined> {
  try {
    return JSON.parse((await container.getBlockBlobClient(blob).downloadToBuffer()).toString('utf8')) as T;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

async function writeJson(container: ContainerClient, blob: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2);
  await container.getBlockBlobClient(blob).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: 'application/json' } });
}

/**
 * A stored key's value as the host uses it. Azure's host encrypts keys at rest with its machine's key
 * (`encrypted: true`), which no other host can read: such a file, or one not shaped as the host writes it,
 * stops the start naming the blob (delete it to have a new key made), rather than be taken as plain text.
 */
function valueOf(key: unknown, blob: string): string {
  const k = key as Partial<StoredKey> | undefined;
  if (k?.encrypted === true) throw new HostConfigError(`${SECRETS_CONTAINER}/${blob} holds a key encrypted by another host, which this one cannot read: delete the blob and a new key is made.`);
  if (typeof k?.value !== 'string' || k.value.length === 0) throw new HostConfigError(`${SECRETS_CONTAINER}/${blob} is not shaped as the host writes its keys (each { name, value, encrypted }).`);
  return k.value;
}

/**
 * The host's keys, read where Azure's host keeps them (`azure-webjobs-secrets/<hostId>/host.json` with the
 * master key and the host's function keys; `<hostId>/<function name in lower case>.json` with a function's
 * keys), each created with a `default` key when missing, as the host does on first start.
 */
export async function loadFunctionKeys(container: ContainerClient, hostId: string, functionNames: readonly string[]): Promise<FunctionKeys> {
  await container.createIfNotExists();
  const meta = { hostName: 'localhost', instanceId: hostId, source: 'runtime', decryptionKeyId: '' };
  const hostBlob = `${hostId}/host.json`;
  let hostSecrets = await readJson<{ masterKey: StoredKey; functionKeys: StoredKey[] }>(container, hostBlob);
  if (!hostSecrets) {
    hostSecrets = { masterKey: { name: 'master', value: newKey(), encrypted: false }, functionKeys: [{ name: 'default', value: newKey(), encrypted: false }] };
    await writeJson(container, hostBlob, { ...hostSecrets, systemKeys: [], ...meta });
  }
  const byFunction = new Map<string, string[]>();
  for (const name of functionNames) {
    const blob = `${hostId}/${name.toLowerCase()}.json`;
    let secrets = await readJson<{ keys: StoredKey[] }>(container, blob);
    if (!secrets) {
      secrets = { keys: [{ name: 'default', value: newKey(), encrypted: false }] };
      await writeJson(container, blob, { ...secrets, ...meta });
    }
    if (!Array.isArray(secrets.keys)) throw new HostConfigError(`${SECRETS_CONTAINER}/${blob} is not shaped as the host writes its keys (a "keys" list).`);
    byFunction.set(
      name,
      secrets.keys.map((k) => valueOf(k, blob)),
    );
  }
  if (!Array.isArray(hostSecrets.functionKeys)) throw new HostConfigError(`${SECRETS_CONTAINER}/${hostBlob} is not shaped as the host writes its keys (a "functionKeys" list).`);
  return { master: valueOf(hostSecrets.masterKey, hostBlob), host: hostSecrets.functionKeys.map((k) => valueOf(k, hostBlob)), byFunction };
}

/** The key a request presents: the `x-functions-key` header, else the `code` query parameter. */
export function presentedKey(url: URL, headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const header = headers['x-functions-key'];
  return (Array.isArray(header) ? header[0] : header) || url.searchParams.get('code') || undefined;
}

/**
 * Whether `key` opens a function of `authLevel`, as Azure decides: `anonymous` always; `function` with the
 * function's own key, a host function key or the master key; `admin` with the master key only. Compared in
 * constant time.
 */
export function isAuthorized(keys: FunctionKeys, functionName: string, authLevel: AuthLevel, key: string | undefined): boolean {
  if (authLevel === 'anonymous') return true;
  if (key === undefined) return false;
  if (sameSecret(key, keys.master)) return true;
  if (authLevel === 'admin') return false;
  return [...keys.host, ...(keys.byFunction.get(functionName) ?? [])].some((k) => sameSecret(key, k));
}
