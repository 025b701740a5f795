import { defineConfig } from 'vitest/config';

// Two projects: unit tests (pure, no servers) and integration tests, which run against the
// real local stack that infra/test/global-setup.ts installs and starts when it is not up.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['services/**/*.test.ts', 'infra/**/*.test.ts', 'benchmarks/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 60_000,
          // Unit tests first: they fail fast and need no server.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['infra/test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores are shared with the servers themselves: more workers only thrash.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
