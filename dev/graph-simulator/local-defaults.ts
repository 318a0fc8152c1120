import type { GraphSimulatorOptions } from './graph-simulator.js';

/**
 * How the simulator runs for people rather than tests (`npm start`, `npm run simulator`): a small share of
 * batches delivered twice, so that every local run exercises the app's de-duplication, and Graph's
 * slow-endpoint rule on. Retry delays run at 1/100 of Graph's.
 */
export const LOCAL_SIMULATOR_OPTIONS = {
  delivery: { timeScale: 0.01, duplicateRate: 0.02, slowEndpoint: { enabled: true } },
} as const satisfies GraphSimulatorOptions;
