/**
 * The least any HTTP receive path can cost: a plain `node:http` server in a process of its own that answers
 * 202 once `@azure/storage-queue` `sendMessage` has stored the request body, with no Functions host, no
 * `@azure/functions` and no validation. `bench/receive-throughput.ts` runs it beside the real app, so the
 * batch-1 figures show what the extra process hop itself costs on this machine (`receiveBatch1BareRelayVsRaw`).
 *
 * Started as `node dist/bench/bare-relay.js <connection string> <queue>`; prints `listening <url>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueServiceClient } from '@azure/storage-queue';

const [connectionString, queueName] = process.argv.slice(2);
if (!connectionString || !queueName) throw new Error('usage: bare-relay <connection string> <queue>');
const queue = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(queueName);
await queue.createIfNotExists();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    queue.sendMessage(Buffer.concat(chunks).toString('base64')).then(
      () => res.writeHead(202).end(),
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
