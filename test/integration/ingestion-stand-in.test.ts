import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ManagedIdentityCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestionStandIn, type IngestionStandIn, type TrackResponse } from '../../dev/app-insights/ingestion-stand-in.js';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const PUBLISHER = { clientId: randomUUID(), principalId: randomUUID() };
const OUTSIDER = { clientId: randomUUID(), principalId: randomUUID() };
const MONITOR_SCOPE = 'https://monitor.azure.com/.default';

const envelope = (iKey: string, message = 'hello') => ({
  ver: 1,
  name: 'Microsoft.ApplicationInsights.Message',
  time: new Date().toISOString(),
  iKey,
  tags: {},
  data: { baseType: 'MessageData', baseData: { ver: 2, message } },
});

async function post(stand: IngestionStandIn, path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; body: TrackResponse; headers: Headers }> {
  const res = await fetch(new URL(path, stand.url), { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as TrackResponse, headers: res.headers };
}

describe("Application Insights' ingestion stand-in, keyed by the connection string's instrumentation key", () => {
  let stand: IngestionStandIn;
  beforeAll(async () => {
    stand = await startIngestionStandIn();
  });
  afterAll(() => stand?.close());

  it('takes a JSON array, gzip or not, on /v2.1/track and /v2/track, and answers what it took', async () => {
    const plain = await post(stand, '/v2.1/track', JSON.stringify([envelope(stand.instrumentationKey, 'one')]));
    expect(plain).toMatchObject({ status: 200, body: { itemsReceived: 1, itemsAccepted: 1, errors: [] } });
    const gzipped = await post(stand, '/v2/track', gzipSync(JSON.stringify([envelope(stand.instrumentationKey, 'two'), envelope(stand.instrumentationKey, 'three')])), {
      'content-encoding': 'gzip',
    });
    expect(gzipped).toMatchObject({ status: 200, body: { itemsReceived: 2, itemsAccepted: 2, errors: [] } });
    expect(stand.items.map((i) => i.data?.baseData?.message)).toEqual(['one', 'two', 'three']);
  });

  it('refuses the items of an instrumentation key it does not know: 206 when others were taken, 400 when none were', async () => {
    const before = stand.items.length;
    const ndjson = [envelope(stand.instrumentationKey, 'kept'), envelope(randomUUID(), 'stray')].map((e) => JSON.stringify(e)).join('\n');
    const partial = await post(stand, '/v2.1/track', ndjson, { 'content-type': 'application/x-json-stream' });
    expect(partial).toMatchObject({ status: 206, body: { itemsReceived: 2, itemsAccepted: 1, errors: [{ index: 1, statusCode: 400, message: 'Invalid instrumentation key' }] } });
    const none = await post(stand, '/v2.1/track', JSON.stringify([envelope(randomUUID())]));
    expect(none).toMatchObject({ status: 400, body: { itemsReceived: 1, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400 }] } });
    const undated = await post(stand, '/v2.1/track', JSON.stringify([{ ...envelope(stand.instrumentationKey), time: '' }]));
    expect(undated.body.errors[0]?.message).toMatch(/'time'.*required/);
    expect(stand.items.slice(before).map((i) => i.data?.baseData?.message)).toEqual(['kept']);
  });

  it("answers Live Metrics' ping that no one is watching, and what it does not serve with 404", async () => {
    const ping = await post(stand, `/QuickPulseService.svc/ping?api-version=2024-04-01-preview&ikey=${stand.instrumentationKey}`, '{}');
    expect(ping.status).toBe(200);
    expect(ping.headers.get('x-ms-qps-subscribed')).toBe('false');
    expect(ping.body).toMatchObject({ Metrics: [], DocumentStreams: [] });
    expect((await post(stand, '/v2.1/other', '[]')).status).toBe(404);
  });
});

describe('the ingestion stand-in with Entra authentication (DisableLocalAuth, Monitoring Metrics Publisher)', () => {
  let mi: ManagedIdentityEndpoint;
  let stand: IngestionStandIn;
  let restoreEnv: () => void = () => undefined;
  /** A token straight from the managed identity endpoint, for any resource and lifetime. */
  const tokenFor = async (identity: { clientId: string }, resource: string, endpoint = mi): Promise<string> => {
    const url = `${endpoint.endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}&client_id=${identity.clientId}`;
    const res = await fetch(url, { headers: { 'x-identity-header': endpoint.header } });
    return ((await res.json()) as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    mi = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [PUBLISHER, OUTSIDER] });
    stand = await startIngestionStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, publishers: [PUBLISHER.principalId] } });
    restoreEnv = pointManagedIdentityAt(mi);
  });
  afterAll(async () => {
    restoreEnv();
    await stand?.close();
    await mi?.close();
  });

  it("takes telemetry with the token ManagedIdentityCredential gets for the exporter's scope, and records whose it was", async () => {
    const { token } = await new ManagedIdentityCredential({ clientId: PUBLISHER.clientId }).getToken(MONITOR_SCOPE);
    expect(decodeJwt(token).aud).toBe('https://monitor.azure.com');
    const answer = await post(stand, '/v2.1/track', JSON.stringify([envelope(stand.instrumentationKey, 'signed')]), { authorization: `Bearer ${token}` });
    expect(answer).toMatchObject({ status: 200, body: { itemsAccepted: 1 } });
    expect(stand.requests.at(-1)).toMatchObject({ path: '/v2.1/track', status: 200, bearer: true, principalId: PUBLISHER.principalId });
  });

  it('refuses a post with only the instrumentation key (401), as a resource with local authentication disabled does', async () => {
    const answer = await post(stand, '/v2.1/track', JSON.stringify([envelope(stand.instrumentationKey), envelope(stand.instrumentationKey)]));
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ itemsReceived: 2, itemsAccepted: 0 });
    expect(answer.body.errors.map((e) => [e.index, e.statusCode])).toEqual([
      [0, 401],
      [1, 401],
    ]);
    expect(answer.body.errors[0]?.message).toMatch(/Authorization required/);
  });

  it('refuses a token for another resource, from other keys, or expired (401), and a principal without the role (403)', async () => {
    const body = JSON.stringify([envelope(stand.instrumentationKey)]);
    const vault = await post(stand, '/v2.1/track', body, { authorization: `Bearer ${await tokenFor(PUBLISHER, 'https://vault.azure.net')}` });
    expect([vault.status, vault.body.errors[0]?.message]).toEqual([401, expect.stringMatching(/audience/)]);

    const elsewhere = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [PUBLISHER] });
    const foreign = await post(stand, '/v2.1/track', body, { authorization: `Bearer ${await tokenFor(PUBLISHER, 'https://monitor.azure.com', elsewhere)}` }).finally(() => elsewhere.close());
    expect(foreign.status).toBe(401);

    const stale = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [PUBLISHER], lifetimeSeconds: -600 });
    const expiredStand = await startIngestionStandIn({ entra: { jwksUrl: stale.jwksUrl, publishers: [PUBLISHER.principalId] } });
    try {
      const expired = await post(expiredStand, '/v2.1/track', JSON.stringify([envelope(expiredStand.instrumentationKey)]), {
        authorization: `Bearer ${await tokenFor(PUBLISHER, 'https://monitor.azure.com', stale)}`,
      });
      expect([expired.status, expired.body.errors[0]?.message]).toEqual([401, expect.stringMatching(/expired/)]);
    } finally {
      await expiredStand.close();
      await stale.close();
    }

    const outsider = await post(stand, '/v2.1/track', body, { authorization: `Bearer ${await tokenFor(OUTSIDER, 'https://monitor.azure.com')}` });
    expect(outsider.status).toBe(403);
    expect(outsider.body.errors[0]).toMatchObject({ index: 0, statusCode: 403, message: expect.stringContaining(`${OUTSIDER.principalId} does not have the Monitoring Metrics Publisher role`) });
    expect(stand.items.map((i) => i.data?.baseData?.message)).toEqual(['signed']);
  });

  it('with local authentication left on, takes a key-only post but still checks a token presented', async () => {
    const lenient = await startIngestionStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, publishers: [PUBLISHER.principalId], disableLocalAuth: false } });
    try {
      const body = JSON.stringify([envelope(lenient.instrumentationKey)]);
      expect((await post(lenient, '/v2.1/track', body)).status).toBe(200);
      expect((await post(lenient, '/v2.1/track', body, { authorization: `Bearer ${await tokenFor(OUTSIDER, 'https://monitor.azure.com')}` })).status).toBe(403);
      expect(lenient.items).toHaveLength(1);
    } finally {
      await lenient.close();
    }
  });

  it("refuses Live Metrics' ping without a token too, with Live Metrics' error body", async () => {
    const ping = await post(stand, `/QuickPulseService.svc/ping?ikey=${stand.instrumentationKey}`, '{}');
    expect(ping.status).toBe(401);
    expect(ping.body).toMatchObject({ Code: '401', Message: expect.stringMatching(/Authorization required/) });
  });
});
