import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { LOCAL_TENANT_ID } from '../../shared/config/settings.js';
import { createTestCertificate } from '../helpers/certificates.js';
import { graphClient, inMinutes } from '../helpers/graph-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';
import { ALICE, BOB } from '../helpers/users.js';

/** A second tenant whose notifications share a delivery with the simulator's own. */
const OTHER_TENANT = '33333333-3333-4333-8333-333333333333';

let sim: GraphSimulator;
let sink: WebhookSink;
let graph: ReturnType<typeof graphClient>;

beforeEach(async () => {
  sink = await startWebhookSink();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0005, batchWindowMs: 5 } });
  graph = graphClient(sim.baseUrl);
  sim.teams.addUser({ id: ALICE, displayName: 'Alice' });
  sim.teams.addUser({ id: BOB, displayName: 'Bob' });
});
afterEach(async () => {
  await sim.close();
  await sink.close();
});

const tenantSettings = (tenantId: string, body?: Record<string, unknown>) => (body === undefined ? graph.get(`/_simulator/tenants/${tenantId}`) : graph.patch(`/_simulator/tenants/${tenantId}`, body));

/** Subscribes to a chat's messages with resource data, posts one and answers the delivery that carried it. */
async function deliveryOfOneMessage(chatId: string, content: string) {
  const before = sink.notifications().length;
  sim.teams.postChatMessage(chatId, { from: ALICE, content });
  await sink.waitForNotifications(before + 1);
  await sim.deliveries.idle();
  const bodies = sink.notifications().slice(before);
  expect(bodies).toHaveLength(1);
  return bodies[0]!;
}

describe("a tenant whose app requires assignment (appRoleAssignmentRequired): Graph's notifications come without validation tokens", () => {
  it('is off for every tenant until the driver sets it; the default tenant is the one the app uses locally', async () => {
    expect(sim.tenantId).toBe(LOCAL_TENANT_ID);
    expect((await tenantSettings(LOCAL_TENANT_ID)).body).toEqual({ id: LOCAL_TENANT_ID, appRoleAssignmentRequired: false });
    const set = await tenantSettings(LOCAL_TENANT_ID, { appRoleAssignmentRequired: true });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ id: LOCAL_TENANT_ID, appRoleAssignmentRequired: true });
    expect((await tenantSettings(LOCAL_TENANT_ID)).body).toEqual({ id: LOCAL_TENANT_ID, appRoleAssignmentRequired: true });
    expect((await tenantSettings(OTHER_TENANT)).body).toEqual({ id: OTHER_TENANT, appRoleAssignmentRequired: false });
    const wrong = await tenantSettings(LOCAL_TENANT_ID, { appRoleAssignmentRequired: 'yes' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('BadRequest');
  });

  it('delivers resource data without validationTokens while the flag is on, and with a valid token again once it is cleared', async () => {
    const cert = await createTestCertificate();
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const created = await graph.post('/v1.0/subscriptions', {
      changeType: 'created',
      notificationUrl: sink.url,
      lifecycleNotificationUrl: sink.url,
      resource: `/chats/${chat.id}/messages`,
      expirationDateTime: inMinutes(180),
      clientState: 'client-state-1',
      includeResourceData: true,
      encryptionCertificate: cert.base64,
      encryptionCertificateId: 'cert-v1',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    await tenantSettings(sim.tenantId, { appRoleAssignmentRequired: true });
    const without = await deliveryOfOneMessage(chat.id, 'while assignment is required');
    expect(without.value[0]).toMatchObject({ tenantId: sim.tenantId, encryptedContent: { encryptionCertificateId: 'cert-v1' } });
    expect(without).not.toHaveProperty('validationTokens');

    await tenantSettings(sim.tenantId, { appRoleAssignmentRequired: false });
    const withTokens = await deliveryOfOneMessage(chat.id, 'after Change Tracking got its role');
    expect(withTokens.validationTokens).toHaveLength(1);
    const { payload } = await jwtVerify(withTokens.validationTokens![0]!, createRemoteJWKSet(new URL(sim.jwksUrl)), { audience: sim.appId, algorithms: ['RS256'] });
    expect(payload.tid).toBe(sim.tenantId);
  });

  it("leaves out only that tenant's token from a delivery mixing tenants", async () => {
    sim.tenants.set(OTHER_TENANT, { appRoleAssignmentRequired: true });
    const item = (tenantId: string, id: string) => ({
      item: { subscriptionId: `sub-${id}`, changeType: 'created', tenantId, resource: `chats('19:x@thread.v2')/messages('${id}')` },
      tokenFor: { appId: sim.appId, tenantId },
    });
    // Both tenants' notifications for one URL within one batch window: one POST.
    sim.deliveries.enqueue(sink.url, [item(OTHER_TENANT, '1'), item(sim.tenantId, '2')]);
    await sim.deliveries.idle();
    const [mixed] = sink.notifications();
    expect(sink.notifications()).toHaveLength(1);
    expect(mixed?.value.map((n) => n.tenantId)).toEqual([OTHER_TENANT, sim.tenantId]);
    expect(mixed?.validationTokens?.map((t) => decodeJwt(t).tid)).toEqual([sim.tenantId]);

    sim.tenants.set(sim.tenantId, { appRoleAssignmentRequired: true });
    sim.deliveries.enqueue(sink.url, [item(OTHER_TENANT, '3'), item(sim.tenantId, '4')]);
    await sim.deliveries.idle();
    expect(sink.notifications()).toHaveLength(2);
    expect(sink.notifications()[1]).not.toHaveProperty('validationTokens');
  });
});
