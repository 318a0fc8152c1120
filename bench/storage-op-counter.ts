import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { azuriteConnectionString } from '../shared/config/storage-connection.js';

type Service = 'blob' | 'queue' | 'table';
const REQUEST_LINE = /(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) (\/\S*) HTTP\/1\.1\r\n/g;

/** A storage request's kind from its request line, e.g. `queue send`, `table batch`, `blob upload`. */
export function operationKind(service: Service, method: string, target: string): string {
  const [path = '', query = ''] = target.split('?');
  const comp = /(?:^|&)comp=([^&]+)/.exec(query)?.[1];
  if (comp) return `${service} ${method} comp=${comp}`;
  if (service === 'queue') {
    if (/\/messages\/[^/]+$/.test(path)) return method === 'DELETE' ? 'queue delete' : method === 'PUT' ? 'queue update' : `queue ${method}`;
    if (path.endsWith('/messages')) return method === 'POST' ? 'queue send' : /peekonly=true/.test(query) ? 'queue peek' : method === 'GET' ? 'queue receive' : `queue ${method}`;
    return `queue ${method}`;
  }
  if (service === 'table') {
    if (path.endsWith('/$batch')) return 'table batch';
    if (/\(.*\)$/.test(decodeURIComponent(path))) return { GET: 'table get', PUT: 'table replace', PATCH: 'table merge', DELETE: 'table delete' }[method] ?? `table ${method}`;
    return method === 'POST' ? (/\/Tables$/i.test(path) ? 'table create-table' : 'table insert') : method === 'GET' ? 'table query' : `table ${method}`;
  }
  return { PUT: 'blob upload', GET: 'blob download', HEAD: 'blob properties', DELETE: 'blob delete' }[method] ?? `blob ${method}`;
}

export interface StorageOpCounter {
  /** A connection string for Azurite through the counter. */
  readonly connectionString: string;
  /** Requests seen per kind since the last reset. */
  counts(): Record<string, number>;
  total(filter?: (kind: string) => boolean): number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of each Azurite service that counts the HTTP requests going through by kind:
 * every storage operation of every process (the app's SDK clients and the host's queue polling alike), as
 * Azure Storage would bill and throttle them.
 */
export async function startStorageOpCounter(azurite: { ports: Record<Service, number>; account?: string }): Promise<StorageOpCounter> {
  let counts = new Map<string, number>();
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const ports = {} as Record<Service, number>;
  for (const service of ['blob', 'queue', 'table'] as const) {
    const server = createServer((client) => {
      const upstream = connect(azurite.ports[service], '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
          const kind = operationKind(service, m[1] ?? '', m[2] ?? '');
          counts.set(kind, (counts.get(kind) ?? 0) + 1);
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports[service] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    connectionString: azuriteConnectionString('127.0.0.1', ports, azurite.account),
    counts: () => Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    total: (filter = () => true) => [...counts].filter(([k]) => filter(k)).reduce((n, [, c]) => n + c, 0),
    reset: () => {
      counts = new Map();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
