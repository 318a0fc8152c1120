import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a real service, to make that service fail as it does in production:
 * `pass` forwards, `hang` accepts connections and never answers (a storage account that stalls), `refuse`
 * drops every connection at once (storage down). It counts
 * the HTTP requests it forwards and can call back at a given count, e.g. to kill the service mid-batch.
 */
export interface TcpProxy {
  readonly port: number;
  readonly requests: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** The most connections open at once so far. */
  readonly peakConnections: number;
  mode: 'pass' | 'hang' | 'refuse';
  onRequest(n: number, callback: () => void): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) \/\S* HTTP\/1\.1\r\n/g;

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const triggers = new Map<number, () => void>();
  let requests = 0;
  let connections = 0;
  let open = 0;
  let peakConnections = 0;
  const state = { mode: 'pass' as 'pass' | 'hang' | 'refuse' };

  const server: Server = createServer((client) => {
    connections++;
    peakConnections = Math.max(peakConnections, ++open);
    sockets.add(client);
    client.on('close', () => {
      sockets.delete(client);
      open--;
    });
    client.on('error', () => client.destroy());
    if (state.mode === 'refuse') {
      client.destroy();
      return;
    }
    if (state.mode === 'hang') {
      client.resume();
      return;
    }
    const upstream = connect(targetPort, host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => {
      const n = chunk.toString('latin1').match(REQUEST_LINE)?.length ?? 0;
      for (let i = 0; i < n; i++) {
        requests++;
        triggers.get(requests)?.();
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    get peakConnections() {
      return peakConnections;
    },
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
      if (m === 'refuse') for (const s of sockets) s.destroy();
    },
    onRequest: (n, callback) => void triggers.set(n, callback),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
