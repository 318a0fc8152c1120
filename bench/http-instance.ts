/**
 * One instance for bench/cold-start.ts: the local host alone on a deployment package, in its folder, as `npm
 * start -- --app <package>` runs it with LOCAL_GRAPH_SIMULATOR=false, without loading the rest of the
 * development stack (the Graph simulator, the Azure-shaped stack), which an instance in Azure does not run either.
 *   node dist/bench/http-instance.js <package folder> <port>
 */
import { resolve } from 'node:path';
import { startLocalHost } from '../dev/local-host/local-host.js';
import { triggerSettingDefaults } from '../shared/config/trigger-settings.js';

const appDir = resolve(process.argv[2] ?? '.');
const port = Number(process.argv[3] ?? 0);
process.chdir(appDir);
await startLocalHost({ appDir, port, defaultSettings: { ...triggerSettingDefaults() }, environment: 'Development' });
