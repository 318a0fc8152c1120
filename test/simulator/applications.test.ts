import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEAMS_APPLICATION_PERMISSIONS } from '../../dev/graph-simulator/app-grants.js';
import { SIMULATOR_APP_DISPLAY_NAME, startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { LOCAL_APP_ID } from '../../shared/config/settings.js';
import { createTestCertificate, type TestCertificate } from '../helpers/certificates.js';
import { graphClient } from '../helpers/graph-client.js';

const SELECT = '$select=id,appId,displayName,passwordCredentials,keyCredentials';
const UNKNOWN_APP = '99999999-9999-4999-8999-999999999999';
const DAY = 86_400_000;

let sim: GraphSimulator;
let graph: ReturnType<typeof graphClient>;
let cert: TestCertificate;

beforeAll(async () => {
  cert = await createTestCertificate();
});
beforeEach(async () => {
  sim = await startGraphSimulator();
  graph = graphClient(sim.baseUrl);
});
afterEach(async () => {
  await sim.close();
});

const byAppId = (appId: string, query = SELECT) => graph.get(`/v1.0/applications(appId='${appId}')?${query}`);
const putCredentials = (appId: string, body: Record<string, unknown>) =>
  fetch(`${sim.baseUrl}/_simulator/applications/${appId}/credentials`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const grant = (permissions: readonly string[]) => graph.patch(`/_simulator/apps/${sim.appId}/grants`, { permissions });

describe("the app's own application object and its credentials, as Graph shows them", () => {
  it('has the local app from the start: one client secret ending two years after the simulator started, its text never shown', async () => {
    expect(sim.appId).toBe(LOCAL_APP_ID);
    const startedAt = sim.clock.now();
    const res = await byAppId(LOCAL_APP_ID);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      '@odata.context': `${sim.baseUrl}/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials,keyCredentials)/$entity`,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      appId: LOCAL_APP_ID,
      displayName: SIMULATOR_APP_DISPLAY_NAME,
      keyCredentials: [],
    });
    const [secret, ...others] = res.body.passwordCredentials as Record<string, unknown>[];
    expect(others).toEqual([]);
    expect(secret).toMatchObject({ keyId: expect.any(String), hint: 'sim', secretText: null });
    const end = new Date(String(secret?.endDateTime));
    const expected = new Date(startedAt);
    expected.setUTCFullYear(expected.getUTCFullYear() + 2);
    // Two calendar years, to the day.
    expect(end.toISOString().slice(0, 10)).toBe(expected.toISOString().slice(0, 10));
    expect(Date.parse(String(secret?.startDateTime))).toBeLessThanOrEqual(startedAt + 1);

    // The same object by object id, and by the filter on appId.
    expect((await graph.get(`/v1.0/applications/${res.body.id}?${SELECT}`)).body.appId).toBe(LOCAL_APP_ID);
    const listed = await graph.get(`/v1.0/applications?$filter=appId eq '${LOCAL_APP_ID}'&${SELECT}`);
    expect(listed.status).toBe(200);
    expect(listed.body['@odata.context']).toBe(`${sim.baseUrl}/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials,keyCredentials)`);
    expect(listed.body.value).toEqual([{ id: res.body.id, appId: LOCAL_APP_ID, displayName: SIMULATOR_APP_DISPLAY_NAME, passwordCredentials: res.body.passwordCredentials, keyCredentials: [] }]);
  });

  it('answers only the properties $select names, and 400 for one an application does not have', async () => {
    expect(Object.keys((await byAppId(LOCAL_APP_ID, '$select=appId,passwordCredentials')).body).sort()).toEqual(['@odata.context', 'appId', 'passwordCredentials']);
    const bad = await byAppId(LOCAL_APP_ID, '$select=appId,secretText');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'Request_BadRequest' });
  });

  it('replaces the credentials with the driver: an expired secret (hint = its first 3 characters) and a certificate with its SHA-1 thumbprint', async () => {
    const expiredAt = new Date(Date.now() - 3 * DAY).toISOString();
    const put = await putCredentials(LOCAL_APP_ID, {
      passwordCredentials: [{ displayName: 'relay', secretText: 'Xy9~not-shown-anywhere', startDateTime: new Date(Date.now() - 400 * DAY).toISOString(), endDateTime: expiredAt }],
      keyCredentials: [{ certificate: cert.base64, displayName: 'relay-cert' }],
    });
    expect(put.status).toBe(200);
    expect(JSON.stringify(await put.json())).not.toContain('not-shown');

    const res = await byAppId(LOCAL_APP_ID);
    expect(JSON.stringify(res.body)).not.toContain('not-shown');
    expect(res.body.passwordCredentials).toEqual([
      { keyId: expect.any(String), displayName: 'relay', hint: 'Xy9', customKeyIdentifier: null, secretText: null, startDateTime: expect.any(String), endDateTime: expiredAt },
    ]);
    const [key] = res.body.keyCredentials as Record<string, unknown>[];
    expect(key).toMatchObject({ keyId: expect.any(String), displayName: 'relay-cert', type: 'AsymmetricX509Cert', usage: 'Verify', customKeyIdentifier: cert.thumbprint, key: null });
    expect(key?.customKeyIdentifier).toMatch(/^[0-9A-F]{40}$/);
    // Without dates the certificate's own validity is the credential's.
    expect(Date.parse(String(key?.endDateTime))).toBeGreaterThan(Date.now());
    expect(Date.parse(String(key?.startDateTime))).toBeLessThanOrEqual(Date.now());

    // A list left out keeps its credentials; an empty one removes them.
    await putCredentials(LOCAL_APP_ID, { passwordCredentials: [] });
    const after = await byAppId(LOCAL_APP_ID);
    expect(after.body.passwordCredentials).toEqual([]);
    expect(after.body.keyCredentials).toHaveLength(1);

    expect((await putCredentials(LOCAL_APP_ID, { passwordCredentials: [{ hint: 'abc' }] })).status).toBe(400);
    expect((await putCredentials(LOCAL_APP_ID, { keyCredentials: [{ certificate: 'not a certificate' }] })).status).toBe(400);
  });

  it('answers 404 Request_ResourceNotFound for an app id it does not hold, until the driver registers it', async () => {
    const missing = await byAppId(UNKNOWN_APP);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      code: 'Request_ResourceNotFound',
      message: `Resource '${UNKNOWN_APP}' does not exist or one of its queried reference-property objects are not present.`,
    });
    expect((await graph.get(`/v1.0/applications?$filter=appId eq '${UNKNOWN_APP}'`)).body.value).toEqual([]);
    expect((await graph.get(`/v1.0/applications?$filter=displayName eq 'x'`)).body.error).toMatchObject({ code: 'Request_UnsupportedQuery' });

    await putCredentials(UNKNOWN_APP, { displayName: 'another app', passwordCredentials: [{ hint: 'abc', endDateTime: '2030-01-01T00:00:00Z' }] });
    expect((await byAppId(UNKNOWN_APP)).body).toMatchObject({ appId: UNKNOWN_APP, displayName: 'another app', passwordCredentials: [{ hint: 'abc', endDateTime: '2030-01-01T00:00:00.000Z' }] });
  });

  it('refuses an app granted no Application.Read.All (nor a higher permission) with 403 Authorization_RequestDenied', async () => {
    // The default grant (the local app's) reads applications, as the first test shows; the Teams permissions alone do not.
    await grant(TEAMS_APPLICATION_PERMISSIONS);
    for (const path of [`/v1.0/applications(appId='${LOCAL_APP_ID}')`, `/v1.0/applications?$filter=appId eq '${LOCAL_APP_ID}'`, `/v1.0/applications(appId='${UNKNOWN_APP}')`]) {
      const refused = await graph.get(path);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    }
    await grant(['Application.ReadWrite.All']);
    expect((await byAppId(LOCAL_APP_ID)).status).toBe(200);
    await grant(['Application.Read.All']);
    expect((await byAppId(LOCAL_APP_ID)).status).toBe(200);
  });
});
