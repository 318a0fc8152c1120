#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalHost } from './local-host.js';

/**
 * `npm start` runs this: the local Functions host for the app in the current folder (or --app).
 *   --app <dir>    the function app (package.json, host.json, local.settings.json); default: cwd
 *   --port <n>     HTTP port; default 7071 (0: any free port)
 *   --host <addr>  HTTP address; default 127.0.0.1
 */
const { values } = parseArgs({
  options: {
    app: { type: 'string', default: process.cwd() },
    port: { type: 'string', default: '7071' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a port number, not "${values.port}"\n`);
  process.exit(2);
}

try {
  const host = await startLocalHost({ appDir: resolve(values.app), port, host: values.host });
  let signals = 0;
  const shutdown = () => {
    if (++signals > 1) process.exit(130);
    host.stop().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`Shutdown failed: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (e) {
  process.stderr.write(`The function host could not start.\n${(e as Error).message}\n`);
  process.exit(1);
}
