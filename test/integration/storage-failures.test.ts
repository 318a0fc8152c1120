import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueuedBatch } from '../../shared/queue/queued-notification.js';
import { drainNotifications, drainQueue, startTestAzurite, azuriteVia, testAzurite, tempDir, type AzuriteProcess } from '../helpers/azurite.js';
import { APP_ID, TENANT_A, changeNotification, encryptedNotification } from '../helpers/notifications.js';
import { testReceiver } from '../helpers/receiver.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startTokenIssuer, type TokenIssuer } from '../helpers/token-issuer.js';

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await startTokenIssuer({ tenantId: TENANT_A, audience: APP_ID });
});
afterAll(() => issuer.close());

describe('when storage fails', () => {
  it("answers 503 when Azurite dies as the batch is stored, and after its restart Graph's retry stores every item", async () => {
    const dir = tempDir();
    let azurite: AzuriteProcess = await startTestAzurite({ location: dir.path });
    const proxy: TcpProxy = await startTcpProxy(azurite.ports.queue);
    try {
      const connectionString = azuriteVia(azurite, { queue: proxy.port });
      // The default bound, the longest the app allows: this test is about what is stored, not how fast (Graph's
      // retries below stand in for a loaded machine's 503s).
      const r = testReceiver(connectionString, issuer.jwksUrl);
      const items = Array.from({ length: 500 }, () => changeNotification());

      await r.post({ value: [changeNotification()] }); // creates the queue
      await drainNotifications(r.queues.change);
      // The batch is one queue message (after its claim-check blob): Azurite is killed as that send reaches it.
      const killed = new Promise<void>((resolve) => proxy.onRequest(proxy.requests + 1, () => void azurite.kill().then(resolve)));

      const failed = await r.post({ value: items });
      await killed;
      expect(failed.status).toBe(503);
      expect(failed.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(failed.body ?? '{}')).toMatchObject({ code: 'ERR_STORAGE_UNAVAILABLE', status: 503 });

      azurite = await startTestAzurite({ location: dir.path, ports: azurite.ports });
      // Graph retries a 5xx with back-off for hours; a few attempts stand in for that.
      let retried = await r.post({ value: items });
      for (let attempt = 1; retried.status === 503 && attempt < 5; attempt++) retried = await r.post({ value: items });
      expect(retried.status).toBe(202);

      const queued = (await drainNotifications(r.queues.change, r.container)).map((q) => q.notification.id);
      expect(new Set(queued)).toEqual(new Set(items.map((i) => i.id)));
    } finally {
      await proxy.close();
      await azurite.stop();
      dir.remove();
    }
  });

  it('answers 503 when the gap request for items of an expired token cannot be stored, and stores it on the retry', async () => {
    const azurite = await testAzurite();
    const proxy = await startTcpProxy(azurite.ports.queue);
    try {
      const connectionString = azuriteVia(azurite, { queue: proxy.port });
      const r = testReceiver(connectionString, issuer.jwksUrl);
      const body = { value: [encryptedNotification()], validationTokens: [await issuer.sign({ issuedAt: -7200, notBefore: -7200, expiresIn: -3600 })] };
      proxy.mode = 'refuse';
      const failed = await r.post(body);
      expect(failed.status).toBe(503);
      expect(JSON.parse(failed.body ?? '{}')).toMatchObject({ code: 'ERR_STORAGE_UNAVAILABLE' });
      expect(r.logger.lines.find((l) => l.event === 'receive.storage_unavailable')?.fields).toMatchObject({ items: 0, gaps: 1 });
      proxy.mode = 'pass';
      expect((await r.post(body)).status).toBe(202);
      expect((await drainQueue(r.queues.change)).map((m) => (m.body as QueuedBatch).gaps?.length)).toEqual([1]);
    } finally {
      await proxy.close();
      await azurite.stop();
    }
  });

  it('answers 503 within its bound while storage hangs', async () => {
    const azurite = await testAzurite();
    const proxy = await startTcpProxy(azurite.ports.queue);
    try {
      proxy.mode = 'hang';
      const connectionString = azuriteVia(azurite, { queue: proxy.port });
      const r = testReceiver(connectionString, issuer.jwksUrl, { RECEIVE_STORAGE_TIMEOUT_MS: '500' });
      const res = await r.post({ value: [changeNotification(), changeNotification()] });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(r.logger.lines.find((l) => l.event === 'receive.storage_unavailable')?.fields).toMatchObject({
        code: 'ERR_STORAGE_UNAVAILABLE',
        items: 2,
      });
    } finally {
      await proxy.close();
      await azurite.stop();
    }
  });
});
