import { defineConfig } from 'vitest/config';

// Four projects: unit (no network), integration (one local runtime per run, real HTTP and
// WebSocket clients), infra (CDK template assertions and cdk-nag), e2e (the web app in Debian's
// Chromium against its own local runtime).
export default defineConfig({
  test: {
    // Lambda runs Node 22; the SDK's warning about older Nodes says nothing about this code.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Stopping the integration runtime closes every socket and the JVM: give it time.
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // About four times what the slowest test under it took on a slow two-core machine (16 s):
          // a slower CI machine fails a test for what it does, not for the time it takes.
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One shared runtime; files run in parallel against it, with unique users and rooms.
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One browser at a time, after the other projects: two cores, and each test drives two
          // people already.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
