import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientStateFingerprint, ConfiguredClientStates, describeClientStateUse } from '../../shared/subscriptions/client-state-fingerprint.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { graphClient, inMinutes } from '../helpers/graph-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

describe('what tells the reconciler which clientState a subscription uses', () => {
  const states = new ConfiguredClientStates(['current-secret-aaaaaaaaaaaa', 'previous-secret-bbbbbbbbbbb', 'older-secret-ccccccccccccc']);

  it('a fingerprint is short, stable, different per secret, and holds nothing of the secret', () => {
    const f = clientStateFingerprint('current-secret-aaaaaaaaaaaa');
    expect(f).toMatch(/^v1\.[\w-]{16}$/);
    expect(clientStateFingerprint('current-secret-aaaaaaaaaaaa')).toBe(f);
    expect(clientStateFingerprint('current-secret-aaaaaaaaaaab')).not.toBe(f);
    expect(f).not.toMatch(/secret|aaaa/);
    expect(states.currentFingerprint).toBe(f);
  });

  it('names the position of the secret by its fingerprint, "none" for one not configured, "unknown" without evidence', () => {
    expect(states.useOf({ fingerprint: clientStateFingerprint('current-secret-aaaaaaaaaaaa') })).toEqual({ position: 1 });
    expect(states.useOf({ fingerprint: clientStateFingerprint('older-secret-ccccccccccccc') })).toEqual({ position: 3 });
    expect(states.useOf({ fingerprint: clientStateFingerprint('removed-secret') })).toBe('none');
    expect(states.useOf({})).toBe('unknown');
    expect(states.useOf({ clientState: null })).toBe('unknown');
  });

  it("prefers Graph's own clientState, when Graph returns one, to the recorded fingerprint", () => {
    const stale = clientStateFingerprint('current-secret-aaaaaaaaaaaa');
    expect(states.useOf({ clientState: 'previous-secret-bbbbbbbbbbb', fingerprint: stale })).toEqual({ position: 2 });
    expect(states.useOf({ clientState: 'previous-secret-bbbbbbbbbbX', fingerprint: stale })).toBe('none');
    expect(states.useOf({ clientState: null, fingerprint: stale })).toEqual({ position: 1 });
  });

  it('describes a position for people, never the value', () => {
    expect([{ position: 1 }, { position: 2 }, { position: 3 }, 'unknown', 'none'].map((u) => describeClientStateUse(u as never))).toEqual([
      '1 (current)',
      '2 (previous)',
      '3',
      'unknown',
      'none of the configured',
    ]);
  });
});

describe('the simulator answers clientState as Graph documents it', () => {
  let sim: GraphSimulator;
  let sink: WebhookSink;
  beforeAll(async () => {
    sim = await startGraphSimulator();
    sink = await startWebhookSink();
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('in the answer to POST and to GET of one subscription, but null in a list ("not returned for security purposes")', async () => {
    const graph = graphClient(sim.baseUrl);
    const created = await graph.post('/v1.0/subscriptions', {
      resource: '/chats',
      changeType: 'created',
      notificationUrl: sink.url,
      lifecycleNotificationUrl: sink.url,
      expirationDateTime: inMinutes(120),
      clientState: 'the-secret-value',
    });
    expect(created).toMatchObject({ status: 201, body: { clientState: 'the-secret-value' } });
    expect((await graph.get(`/v1.0/subscriptions/${created.body.id}`)).body.clientState).toBe('the-secret-value');
    const listed = await graph.get('/v1.0/subscriptions');
    expect(listed.body.value).toHaveLength(1);
    expect(listed.body.value[0]).toMatchObject({ id: created.body.id, clientState: null });
  });
});
