#!/usr/bin/env node
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGraphSimulator } from '../graph-simulator/graph-simulator.js';

/**
 * The Graph simulator as the chaos run's own process. Prints one JSON line: its Graph base URL, JWKS URL
 * and the URL of a small control API the harness reads the ledger from:
 *   GET /changes   { changes: RecordedChange[], deliveriesIdle: boolean }
 *
 * Validation tokens are signed with the wall clock, not the simulated one: the chaos run advances the
 * simulated clock to make subscriptions need renewal, and Graph's tokens carry Graph's real time (a token
 * from the future would be refused by the app as it should be).
 */
const timeScale = Number(process.env.CHAOS_GRAPH_TIME_SCALE ?? '0.001');
// Retry delays sped up, but Graph's own 4-hour horizon kept: the app answers 503 rather than late (Graph's
// 2,900 ms rule), and Graph retries such a notification for 4 hours. Scaled with the delays, the horizon was
// 14.4 s, so a machine too loaded to store within the answer budget for that long lost what a real Graph
// would have delivered later (docs/reliability.md).
const sim = await startGraphSimulator({ delivery: { timeScale, retryHorizonMs: 4 * 3600_000 } });
const sign = sim.signer.validationToken.bind(sim.signer);
sim.signer.validationToken = (appId, tenantId, _nowMs, overrides) => sign(appId, tenantId, Date.now(), overrides);

let idle = true;
const watchIdle = (): void => {
  idle = false;
  void sim.deliveries.idle().then(() => (idle = true));
};

const control = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/changes') {
    watchIdle();
    // idle() resolves at once when nothing is pending; let that settle before answering.
    setImmediate(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ changes: sim.changes.changes, deliveriesIdle: idle })));
    return;
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
process.stdout.write(
  JSON.stringify({ baseUrl: sim.baseUrl, jwksUrl: sim.jwksUrl, controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`, tenantId: sim.tenantId, appId: sim.appId }) + '\n',
);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
