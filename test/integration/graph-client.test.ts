import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphClient, GraphRequestError } from '../../shared/graph/graph-client.js';

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Graph client's HTTP behaviour against a real loopback server that answers each request with the next
 * scripted answer: throttling, back-off, network failures (a socket destroyed mid-request) and error bodies.
 */
describe('GraphClient on @azure/core-rest-pipeline', () => {
  let server: Server;
  let baseUrl: string;
  let script: Answer[] = [];
  let seen: { method: string; url: string; authorization: string; clientRequestId: string; userAgent: string }[] = [];
  const json =
    (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
    (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
  const reset: Answer = (req) => req.socket.destroy();
  const graphError = (code: string, message: string) => ({ error: { code, message, innerError: { 'request-id': 'req-1', date: new Date().toISOString() } } });
  const client = (o: { maxRetries?: number; maxRetryDelayMs?: number } = {}) =>
    new GraphClient({ baseUrl, credential: { getToken: async () => ({ token: 'tok', expiresOnTimestamp: Date.now() + 3600_000 }) }, retryDelayMs: 5, ...o });

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization ?? '',
        clientRequestId: String(req.headers['client-request-id'] ?? ''),
        userAgent: req.headers['user-agent'] ?? '',
      });
      req.resume();
      req.on('end', () => (script.shift() ?? json(200, { value: [] }))(req, res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    script = [];
    seen = [];
  });

  it('sends the token, a client-request-id and its user agent', async () => {
    script = [json(200, { value: [{ id: 's1' }] })];
    expect(await client().listSubscriptions()).toEqual([{ id: 's1' }]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1.0/subscriptions', authorization: 'Bearer tok', userAgent: expect.stringContaining('teams-change-relay') });
    expect(seen[0]!.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('waits out 429 and 503 with Retry-After, then succeeds', async () => {
    script = [json(429, graphError('TooManyRequests', 'slow down'), { 'retry-after': '0' }), json(503, graphError('ServiceUnavailable', 'busy'), { 'retry-after': '0' }), json(201, { id: 'new' })];
    const created = await client().createSubscription({
      resource: 'chats',
      changeType: 'created',
      notificationUrl: 'https://x',
      lifecycleNotificationUrl: 'https://x',
      expirationDateTime: new Date().toISOString(),
      clientState: 's',
      includeResourceData: false,
    });
    expect(created).toEqual({ id: 'new' });
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST', 'POST']);
  });

  it('fails at once when Retry-After is over the bound, keeping the wait for callers that pace themselves', async () => {
    script = [json(429, graphError('TooManyRequests', 'later'), { 'retry-after': '120' })];
    const e = await client({ maxRetryDelayMs: 30_000 })
      .get('/v1.0/chats')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toBeInstanceOf(GraphRequestError);
    expect(e).toMatchObject({ status: 429, code: 'ERR_GRAPH_429', graphCode: 'TooManyRequests', retryAfterSeconds: 120, requestId: 'req-1' });
    expect(seen).toHaveLength(1);
  });

  it('backs off on 500/502/504 up to maxRetries, and does not retry a 4xx', async () => {
    script = [
      json(500, graphError('InternalServerError', 'a')),
      json(502, graphError('BadGateway', 'b')),
      json(504, graphError('GatewayTimeout', 'c')),
      json(500, graphError('InternalServerError', 'd')),
    ];
    const e = await client({ maxRetries: 3 })
      .get('/v1.0/chats')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toMatchObject({ status: 500, graphCode: 'InternalServerError' });
    expect(seen).toHaveLength(4);

    seen = [];
    script = [json(403, graphError('Forbidden', 'Missing role Chat.Read.All'))];
    const forbidden = await client()
      .get('/v1.0/chats')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(forbidden).toMatchObject({ status: 403, graphCode: 'Forbidden', message: expect.stringContaining('Chat.Read.All') });
    expect(seen).toHaveLength(1);
  });

  it('resends a GET after a connection reset, but never a POST that may have reached Graph', async () => {
    script = [reset, json(200, { id: 'chat' })];
    expect(await client().get('/v1.0/chats/1')).toEqual({ id: 'chat' });
    expect(seen).toHaveLength(2);

    seen = [];
    script = [reset, json(201, { id: 'second' })];
    const e = await client()
      .createSubscription({
        resource: 'chats',
        changeType: 'created',
        notificationUrl: 'https://x',
        lifecycleNotificationUrl: 'https://x',
        expirationDateTime: new Date().toISOString(),
        clientState: 's',
        includeResourceData: false,
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toMatchObject({ code: 'ECONNRESET' });
    expect(e).not.toBeInstanceOf(GraphRequestError);
    expect(seen).toHaveLength(1);
  });

  it('parses an error body without Graph shape into a GraphRequestError all the same', async () => {
    script = [(_req, res) => res.writeHead(404, { 'content-type': 'text/plain', 'request-id': 'hdr-id' }).end('not here')];
    const e = await client()
      .deleteSubscription('gone')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toMatchObject({ status: 404, graphCode: 'Unknown', requestId: 'hdr-id' });
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/v1.0/subscriptions/gone' });
  });
});
