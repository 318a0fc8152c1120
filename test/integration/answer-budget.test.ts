import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_SLOW_ANSWER_MS } from '../../shared/receive/answer-budget.js';
import { azuriteVia, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { APP_ID, TENANT_A, changeNotification, encryptedNotification } from '../helpers/notifications.js';
import { testReceiver, type TestReceiver } from '../helpers/receiver.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startTokenIssuer, type TokenIssuer } from '../helpers/token-issuer.js';

/**
 * Graph counts an answer that took more than 2,900 ms as slow, and drops an endpoint's notifications for good
 * once 15 % of its answers were slow. These tests run the production receiver on its default settings against
 * storage and a key set endpoint that stall, and hold each answer to Graph's mark: the property itself, with
 * 400 ms of the app's 2,500 ms design budget between it and a loaded test machine.
 */
let issuer: TokenIssuer;
let azurite: AzuriteProcess;
beforeAll(async () => {
  issuer = await startTokenIssuer({ tenantId: TENANT_A, audience: APP_ID });
  azurite = await testAzurite();
});
afterAll(async () => {
  await issuer.close();
  await azurite.stop();
});

async function timed(post: Promise<{ status: number }>): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const { status } = await post;
  return { status, ms: performance.now() - start };
}

describe("the answer budget: every answer before Graph's 2,900 ms mark", () => {
  it('answers 503 in time while storage stalls (connections taken, never answered), a claim-check batch too', async () => {
    const queue: TcpProxy = await startTcpProxy(azurite.ports.queue);
    const blob: TcpProxy = await startTcpProxy(azurite.ports.blob);
    try {
      // Stalled from the first connection: a kept-alive one opened before would still pass.
      queue.mode = 'hang';
      blob.mode = 'hang';
      const r: TestReceiver = testReceiver(azuriteVia(azurite, { queue: queue.port, blob: blob.port }), issuer.jwksUrl, {}, { productionBudget: true });
      const large = Array.from({ length: 300 }, () => changeNotification()); // over 64 KiB: a claim-check blob first
      const answers = await Promise.all([
        ...Array.from({ length: 8 }, () => timed(r.post({ value: [changeNotification(), changeNotification()] }))),
        ...Array.from({ length: 4 }, () => timed(r.post({ value: large }))),
      ]);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(GRAPH_SLOW_ANSWER_MS);
    } finally {
      await queue.close();
      await blob.close();
    }
  });

  it('gives the store only what a late body left of the deadline: storage stalled, the answer still comes in time', async () => {
    const queue: TcpProxy = await startTcpProxy(azurite.ports.queue);
    try {
      queue.mode = 'hang';
      const r = testReceiver(azuriteVia(azurite, { queue: queue.port }), issuer.jwksUrl, {}, { productionBudget: true });
      // 1,900 ms for the body, then the store's full 1,200 ms would end at 3.1 s: past Graph's mark.
      const answer = await timed(r.post({ value: [changeNotification()] }, { bodyArrivesAfterMs: 1900 }));
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(GRAPH_SLOW_ANSWER_MS);
    } finally {
      await queue.close();
    }
  });

  it('answers 503 in time while the key set endpoint stalls (a fresh instance meets its first validation token)', async () => {
    const keys: TcpProxy = await startTcpProxy(Number(new URL(issuer.jwksUrl).port));
    try {
      keys.mode = 'hang';
      const jwksUrl = new URL(issuer.jwksUrl);
      jwksUrl.port = String(keys.port);
      const r = testReceiver(azuriteVia(azurite, {}), jwksUrl.href, {}, { productionBudget: true });
      const answer = await timed(r.post({ value: [encryptedNotification()], validationTokens: [await issuer.sign()] }));
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(GRAPH_SLOW_ANSWER_MS);
    } finally {
      await keys.close();
    }
  });
});
