/** The three storage services the app uses, each on its own endpoint (and, under Azurite, its own port). */
export type StorageService = 'blob' | 'queue' | 'table';

/**
 * The built-in data-plane roles of Azure Storage, named as Azure names them (infra/main.bicep assigns the app's
 * identity Storage Blob Data Owner, Storage Queue Data Contributor and Storage Table Data Contributor).
 */
export type StorageRole =
  | 'Storage Blob Data Owner'
  | 'Storage Blob Data Contributor'
  | 'Storage Blob Data Reader'
  | 'Storage Blob Delegator'
  | 'Storage Queue Data Contributor'
  | 'Storage Queue Data Message Processor'
  | 'Storage Queue Data Message Sender'
  | 'Storage Queue Data Reader'
  | 'Storage Table Data Contributor'
  | 'Storage Table Data Reader';

/**
 * What a request does, in the grain the roles' data actions tell apart: `read` (get, list, peek), `write`
 * (create, change, delete), and for queues `add` (put a message) and `process` (receive and delete a
 * message), for blobs `delegate` (get a user delegation key).
 */
export type StorageAction = 'read' | 'write' | 'add' | 'process' | 'delegate';

/** The actions each role allows, by service: the roles' data actions as Azure defines them, folded into StorageAction. */
const ALLOWS: Readonly<Record<StorageRole, { readonly service: StorageService; readonly actions: readonly StorageAction[] }>> = {
  'Storage Blob Data Owner': { service: 'blob', actions: ['read', 'write', 'delegate'] },
  'Storage Blob Data Contributor': { service: 'blob', actions: ['read', 'write', 'delegate'] },
  'Storage Blob Data Reader': { service: 'blob', actions: ['read', 'delegate'] },
  'Storage Blob Delegator': { service: 'blob', actions: ['delegate'] },
  'Storage Queue Data Contributor': { service: 'queue', actions: ['read', 'write', 'add', 'process'] },
  // Peek, receive and delete messages (messages/read, messages/process/action); no queue changes, no updates.
  'Storage Queue Data Message Processor': { service: 'queue', actions: ['read', 'process'] },
  'Storage Queue Data Message Sender': { service: 'queue', actions: ['add'] },
  'Storage Queue Data Reader': { service: 'queue', actions: ['read'] },
  'Storage Table Data Contributor': { service: 'table', actions: ['read', 'write'] },
  'Storage Table Data Reader': { service: 'table', actions: ['read'] },
};

/**
 * The action of a request to `service`, from its method, its path after the account (`/<queue>/messages/<id>`)
 * and its query. A read with `HEAD` or `GET` is `read`, except that receiving queue messages (GET without
 * `peekonly=true`) and deleting one by its pop receipt are `process`; anything else changes something.
 */
export function actionOf(service: StorageService, method: string, path: readonly string[], query: URLSearchParams): StorageAction {
  const reads = method === 'GET' || method === 'HEAD';
  if (service === 'blob' && method === 'POST' && query.get('restype') === 'service' && query.get('comp') === 'userdelegationkey') return 'delegate';
  if (service === 'queue' && path[1]?.toLowerCase() === 'messages') {
    if (method === 'POST') return 'add';
    if (method === 'GET') return query.get('peekonly')?.toLowerCase() === 'true' ? 'read' : 'process';
    // A message by id: DELETE with its pop receipt (processing it), PUT to update it; DELETE without id clears the queue.
    if (method === 'DELETE' && path[2]) return 'process';
    return 'write';
  }
  return reads ? 'read' : 'write';
}

/** True when one of `roles` allows `action` on `service`. */
export function rolesAllow(roles: readonly StorageRole[], service: StorageService, action: StorageAction): boolean {
  return roles.some((role) => ALLOWS[role].service === service && ALLOWS[role].actions.includes(action));
}

/** Whether a role name is one of the storage data-plane roles the gate knows. */
export function isStorageRole(role: string): role is StorageRole {
  return Object.hasOwn(ALLOWS, role);
}
