// Compiles dist/ once before the suite: process-level tests run the real entry point (`node dist/src/main.js`),
// exactly what `npm start` runs, rather than a TypeScript loader that production never uses.
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
