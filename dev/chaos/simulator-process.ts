#!/usr/bin/env node
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalGraphOptions } from '../azure-stack/azure-stack.js';
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
// Graph's retry horizon shrinks with its delays (4 hours × timeScale; the run's GRAPH_GIVES_UP_AFTER_MS), on
// purpose: a long host downtime then loses what only the downtime gap's backfill can bring back. With Graph's
// real 4 hours, Graph's late retries would deliver it and hide a backfill that lost it (and the quiet period
// would wait for retries 40 minutes apart). Soaks must therefore run alone on the machine (docs/reliability.md).
// CHAOS_GRAPH_OPTIONS (JSON): where it listens, its tenant and app, and the Entra stand-in's keys it checks
// tokens with, as the Azure-shaped stack sets them (the chaos run's --azure); unset: the simulator's own.
const graph = JSON.parse(process.env.CHAOS_GRAPH_OPTIONS ?? '{}') as Partial<LocalGraphOptions>;
const sim = await startGraphSimulator({ ...graph, delivery: { timeScale } });
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
