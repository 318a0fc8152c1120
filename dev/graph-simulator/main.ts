#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { DRIVER_PREFIX } from './server.js';
import { startGraphSimulator } from './graph-simulator.js';
import { LOCAL_SIMULATOR_OPTIONS } from './local-defaults.js';

/**
 * `npm run simulator`: the Graph simulator on its own. The first line printed is its Graph base URL, the
 * second its JWKS URL. Options: --port (default 0, any free port), --host, --time-scale (retry delays),
 * --batch-size, --duplicate-rate (default 0.02), --issuer v1|v2|mixed (default mixed).
 */
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'time-scale': { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '10' },
    'duplicate-rate': { type: 'string', default: String(LOCAL_SIMULATOR_OPTIONS.delivery.duplicateRate) },
    issuer: { type: 'string', default: 'mixed' },
  },
});

const sim = await startGraphSimulator({
  host: values.host,
  port: Number(values.port),
  issuerVersion: values.issuer === 'v1' || values.issuer === 'v2' ? values.issuer : 'mixed',
  delivery: { ...LOCAL_SIMULATOR_OPTIONS.delivery, timeScale: Number(values['time-scale']), maxBatchSize: Number(values['batch-size']), duplicateRate: Number(values['duplicate-rate']) },
});
process.stdout.write(`${sim.baseUrl}\n${sim.jwksUrl}\n`);
process.stderr.write(`Graph simulator: ${sim.baseUrl}/v1.0 and /beta; driver API under ${sim.baseUrl}${DRIVER_PREFIX}; tenant ${sim.tenantId}\n`);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
