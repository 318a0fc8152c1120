import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/azurite/azurite-process.js';
import { checkEndpoint, checkEndpoints, handshakeUrl } from '../../shared/subscriptions/endpoint-check.js';
import { maskSecrets } from '../../shared/util/mask-secrets.js';
import { startHandshakeServer, type HandshakeServer } from '../helpers/handshake-server.js';
import { InvocationContext } from '@azure/functions';
import { createJsonLogger } from '../../shared/log.js';
import { GraphRequestError } from '../../shared/graph/graph-request-error.js';
import { invocationLogger } from '../../functions/adapters/invocation-logger.js';

describe("Graph's validation handshake, done against an endpoint (real HTTP over loopback)", () => {
  let server: HandshakeServer;
  beforeAll(async () => {
    server = await startHandshakeServer();
  });
  afterAll(() => server?.close());

  it('appends validationToken to the query the URL already has, encoded, as Graph does', () => {
    const url = handshakeUrl(new URL('https://app.example/api/notifications?code=k%2By'), 'Validation: a b');
    expect(url).toBe('https://app.example/api/notifications?code=k%2By&validationToken=Validation%3A%20a%20b');
    expect(handshakeUrl(new URL('https://app.example/api/lifecycle'), 't')).toBe('https://app.example/api/lifecycle?validationToken=t');
  });

  it('passes when the endpoint echoes the token as 200 text/plain; sends POST text/plain with the key kept', async () => {
    const result = await checkEndpoint('GRAPH_NOTIFICATION_URL', `${server.url}/echo?code=secret-key-1`);
    expect(result).toMatchObject({ name: 'GRAPH_NOTIFICATION_URL', ok: true, status: 200, url: `${server.url}/echo?code=***` });
    const sent = server.requests.at(-1);
    expect(sent?.method).toBe('POST');
    expect(sent?.contentType).toMatch(/^text\/plain/);
    expect(sent?.url).toMatch(/^\/echo\?code=secret-key-1&validationToken=Validation%3A%20/);
  });

  it('fails naming the cause: 401 (wrong key), 404, wrong body, wrong content type, connection refused, timeout', async () => {
    const dead = await freePort();
    const results = await checkEndpoints(
      {
        unauthorized: `${server.url}/unauthorized?code=wrong-key`,
        notFound: `${server.url}/api/nowhere?code=k`,
        wrongBody: `${server.url}/wrong-body`,
        json: `${server.url}/json`,
        refused: `http://127.0.0.1:${dead}/api/notifications?code=k`,
        silent: `${server.url}/silent`,
        invalid: 'not a url',
      },
      { timeoutMs: 500 },
    );
    const by = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(by.unauthorized).toMatchObject({ ok: false, failure: 'unauthorized', status: 401, url: `${server.url}/unauthorized?code=***` });
    expect(by.unauthorized?.detail).toContain('function key');
    expect(by.notFound).toMatchObject({ ok: false, failure: 'not-found', status: 404 });
    expect(by.wrongBody).toMatchObject({ ok: false, failure: 'wrong-body', status: 200 });
    expect(by.wrongBody?.detail).toContain('"OK"');
    expect(by.json).toMatchObject({ ok: false, failure: 'wrong-content-type' });
    expect(by.refused).toMatchObject({ ok: false, failure: 'connection-refused' });
    expect(by.silent).toMatchObject({ ok: false, failure: 'timeout' });
    expect(by.silent?.detail).toContain('500 ms');
    expect(by.invalid).toMatchObject({ ok: false, failure: 'invalid-url' });
    expect(JSON.stringify(results)).not.toMatch(/wrong-key|code=k\b/);
  });
});

describe('maskSecrets', () => {
  it('masks every code= value in URLs, tables and JSON, and nothing else', () => {
    expect(maskSecrets('https://a.example/api/notifications?code=abc123==&x=1')).toBe('https://a.example/api/notifications?code=***&x=1');
    expect(maskSecrets('{"u":"https://a/x?y=1&code=s3cr3t","v":"https://b/y?CODE=t"}')).toBe('{"u":"https://a/x?y=1&code=***","v":"https://b/y?CODE=***"}');
    expect(maskSecrets('a  https://a/x?code=k  b')).toBe('a  https://a/x?code=***  b');
    expect(maskSecrets('https://a/x?zipcode=1&encode=2')).toBe('https://a/x?zipcode=1&encode=2');
  });

  it("masks a storage SAS's sig= too, and leaves JSON escapes whole", () => {
    expect(maskSecrets('https://acct.blob.core.windows.net/c/b.json?sv=2024-11-04&sig=AbC%2B%3D&se=2026')).toBe('https://acct.blob.core.windows.net/c/b.json?sv=2024-11-04&sig=***&se=2026');
    expect(maskSecrets('https://a/x?designation=1')).toBe('https://a/x?designation=1');
    const json = JSON.stringify({ error: 'Graph quoted "https://a/x?code=k3y\\" here' });
    expect(JSON.parse(maskSecrets(json))).toEqual({ error: 'Graph quoted "https://a/x?code=***\\" here' });
  });
});

describe('log lines and errors', () => {
  const KEY = 'f3a9c0de5ecre7key0000000000000001';
  const url = `https://relay.example/api/notifications?code=${KEY}`;

  it('every line a JSON logger writes has its keys masked, whatever field carries them', () => {
    const lines: string[] = [];
    const logger = createJsonLogger((l) => lines.push(l), { app: 'x' });
    logger.error('subscriptions.entry_failed', { error: `Graph answered 400 ValidationError: (${url}: the endpoint answered 404)`, nested: { urls: [url] } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(KEY);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'subscriptions.entry_failed', nested: { urls: ['https://relay.example/api/notifications?code=***'] } });
  });

  it("an invocation's log line and its structured copy (Application Insights) are masked", () => {
    const context = new InvocationContext({ functionName: 'reconcileSubscriptions', invocationId: 'i-1' });
    const written: string[] = [];
    context.error = (...args: unknown[]) => void written.push(String(args[0]));
    const structured: Record<string, unknown>[] = [];
    invocationLogger(context, undefined, (_level, _event, fields) => void structured.push({ ...fields })).error('lifecycle.failed', { error: url });
    expect(written.join('\n')).not.toContain(KEY);
    expect(structured).toEqual([{ error: 'https://relay.example/api/notifications?code=***' }]);
  });

  it("our errors' messages are masked where they are made, so a host that logs a thrown error logs no key", () => {
    const e = new GraphRequestError(400, 'ValidationError', `Subscription validation request failed. (${url}: no answer)`);
    expect(e.message).toContain('code=***');
    expect(e.message).not.toContain(KEY);
  });
});
