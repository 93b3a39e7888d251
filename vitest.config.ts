import { defineConfig } from 'vitest/config';

// Integration and e2e tests share one process-wide embedded broker per file; run files
// one at a time so the 2-core machine is not oversubscribed by librdkafka threads.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // Gathers the fault suite's rows (test/faults) into reports/faults.json; no-op otherwise.
    globalSetup: ['test/faults/global-setup.ts'],
  },
});
