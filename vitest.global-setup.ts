// Compiles dist/ once before the suite: process-level tests run the real entry point (`node dist/src/main.js`),
// exactly what `npm start` runs, rather than a TypeScript loader that production never uses.
import { spawnSync } from 'node:child_process'

// tsc exits 2 when it found type errors but still wrote every file; `npm run typecheck` is the gate for
// types (CI runs it first), so here only a build that wrote nothing (exit 1) stops the suite.
const TSC_ERRORS_BUT_EMITTED = 2

export default function setup(): void {
  // through build-if-stale: it skips an up-to-date dist/ and stamps a fresh build, so a test that runs `npm start`
  // (README snippets, fast start) does not compile a second time (50–70 s under load)
  const r = spawnSync(process.execPath, ['tools/build-if-stale.mjs'], { stdio: 'inherit' })
  if (r.status === TSC_ERRORS_BUT_EMITTED) console.warn('vitest setup: dist/ built with type errors (see above); run `npm run typecheck`')
  else if (r.status !== 0) throw new Error(`building dist/ failed (tsc exit ${r.status})`)
}
