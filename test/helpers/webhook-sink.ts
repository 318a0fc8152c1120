import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A notification endpoint for simulator tests, over loopback HTTP: records every POST, answers the
 * validation handshake as told (echo, a wrong body, an error status, or too slowly) and notifications
 * with the statuses queued in `answers` (then 202).
 */
export interface WebhookSink {
  readonly url: string;
  readonly posts: { path: string; query: URLSearchParams; contentType: string | undefined; body: string }[];
  handshake: 'echo' | 'wrong' | 'error' | { delayMs: number };
  /** Set: like App Service access restrictions, requests from any other address are answered 403. */
  allowFrom: readonly string[] | undefined;
  /** The next `n` handshakes answer a wrong token, whatever `handshake` says. */
  failNextHandshakes(n: number): void;
  readonly answers: (number | { status: number; delayMs: number })[];
  /** Notification bodies received (handshakes excluded), parsed. */
  notifications(): { value: Record<string, unknown>[]; validationTokens?: string[] }[];
  waitForNotifications(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const posts: WebhookSink['posts'] = [];
  const answers: WebhookSink['answers'] = [];
  const state: { handshake: WebhookSink['handshake']; failures: number; allowFrom: WebhookSink['allowFrom'] } = { handshake: 'echo', failures: 0, allowFrom: undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sink');
      const body = Buffer.concat(chunks).toString('utf8');
      if (state.allowFrom && !state.allowFrom.includes(req.socket.remoteAddress ?? '')) {
        res.writeHead(403).end();
        return;
      }
      posts.push({ path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body });
      const token = url.searchParams.get('validationToken');
      if (token !== null) {
        const h = state.failures > 0 ? (state.failures--, 'wrong') : state.handshake;
        if (h === 'echo') res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
        else if (h === 'wrong') res.writeHead(200, { 'content-type': 'text/plain' }).end('not the token');
        else if (h === 'error') res.writeHead(500).end();
        else setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(token), h.delayMs);
        return;
      }
      const answer = answers.shift() ?? 202;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else setTimeout(() => res.writeHead(answer.status).end(), answer.delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sink: WebhookSink = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/notifications`,
    posts,
    get handshake() {
      return state.handshake;
    },
    set handshake(h) {
      state.handshake = h;
    },
    get allowFrom() {
      return state.allowFrom;
    },
    set allowFrom(addresses) {
      state.allowFrom = addresses;
    },
    answers,
    failNextHandshakes: (n) => void (state.failures += n),
    notifications: () => posts.filter((p) => !p.query.has('validationToken')).map((p) => JSON.parse(p.body) as ReturnType<WebhookSink['notifications']>[number]),
    waitForNotifications: async (count, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const items = sink.notifications().flatMap((n) => n.value);
        if (items.length >= count) return items;
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${items.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return sink;
}
