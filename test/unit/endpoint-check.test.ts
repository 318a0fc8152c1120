import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/azurite/azurite-process.js';
import { checkEndpoint, checkEndpoints, handshakeUrl } from '../../shared/subscriptions/endpoint-check.js';
import { maskFunctionKeys } from '../../shared/util/mask-function-key.js';
import { startHandshakeServer, type HandshakeServer } from '../helpers/handshake-server.js';

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

describe('maskFunctionKeys', () => {
  it('masks every code= value in URLs, tables and JSON, and nothing else', () => {
    expect(maskFunctionKeys('https://a.example/api/notifications?code=abc123==&x=1')).toBe('https://a.example/api/notifications?code=***&x=1');
    expect(maskFunctionKeys('{"u":"https://a/x?y=1&code=s3cr3t","v":"https://b/y?CODE=t"}')).toBe('{"u":"https://a/x?y=1&code=***","v":"https://b/y?CODE=***"}');
    expect(maskFunctionKeys('a  https://a/x?code=k  b')).toBe('a  https://a/x?code=***  b');
    expect(maskFunctionKeys('https://a/x?zipcode=1&encode=2')).toBe('https://a/x?zipcode=1&encode=2');
  });
});
