import { defineConfig } from 'vitest/config'

// Integration tests start real servers and brokers on loopback: give them room, but keep every
// test bounded so a hang fails CI instead of eating its 90 minutes.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'feeds/**/*.test.ts', 'bench/**/*.test.ts', 'grafana/**/*.test.ts', 'test-support/**/*.test.ts', 'tools/**/*.test.ts'],
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
