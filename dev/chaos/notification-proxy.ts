import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The URL Graph is given for notifications and lifecycle events, in front of the host's (whose process
 * comes and goes): requests are forwarded as they are; while the host is down a connection is dropped, as
 * a stopped app's would be.
 *
 * `loseEvery` plants a loss for the test that proves the ledger can fail: every n-th POST of change
 * notifications is answered 202 without being forwarded, like an app that acknowledges before storing.
 * It exists only here, in the harness: the app has no such switch.
 */
export interface NotificationProxy {
  readonly url: string;
  /** Notification batches answered 202 without forwarding (planted loss). */
  readonly swallowed: number;
  close(): Promise<void>;
}

export async function startNotificationProxy(targetPort: number, options: { loseEvery?: number } = {}): Promise<NotificationProxy> {
  let posts = 0;
  let swallowed = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isChangeBatch = req.method === 'POST' && !req.url?.includes('validationToken=') && req.url?.startsWith('/api/notifications') && body.includes('"resource"');
      if (isChangeBatch && options.loseEvery && ++posts % options.loseEvery === 0) {
        swallowed++;
        res.writeHead(202).end();
        return;
      }
      const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
    req.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get swallowed() {
      return swallowed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
