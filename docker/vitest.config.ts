import { defineConfig } from 'vitest/config'

// `npm run test:container` only: builds and runs the image (minutes, root, podman), so it is outside `npm test`'s include.
export default defineConfig({
  test: {
    include: ['docker/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 1,
  },
})
