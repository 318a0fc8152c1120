import { defineConfig } from 'vitest/config';
import { loopbackCertificate } from './dev/tls/loopback-certificate.js';

// Every HTTPS stand-in (Key Vault, Entra's token endpoint, storage, ingestion) serves the loopback certificate;
// the test processes trust it as any process of an Azure-shaped stack does, by NODE_EXTRA_CA_CERTS, which Node
// reads only at start: the workers are forked after this.
process.env.NODE_EXTRA_CA_CERTS = (await loopbackCertificate()).caFile;

/**
 * Two tiers. `unit` (`npm run test:unit`): pure code, no Azurite, no child process, no server, no real sleep
 * (test/unit/tier.test.ts keeps it so); the rest starts the local services it needs (Azurite, the simulator,
 * the local host, Chromium). `npm test` runs both.
 */
export default defineConfig({
  test: {
    // Generous caps: waits inside the tests end as soon as their condition holds; a loaded machine is slow.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // One Azurite per worker for the run, with a storage account for each test file that takes one (testAzurite()).
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: ['test/unit/**'], globalSetup: ['test/setup/azurite.global.ts'] } },
    ],
  },
});
