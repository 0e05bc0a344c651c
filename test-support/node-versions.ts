// Owns finding a Node.js binary of a given major version for tests that must run on more than one (README snippets).
// Must never install anything outside npm's own cache: it asks `npx node@N` (the `node` package on the npm registry).
import { execFileSync } from 'node:child_process'

const NPX_TIMEOUT_MS = 180_000

function execPathVia(args: string[]): string | null {
  try {
    const out = execFileSync('npx', [...args, '-p', 'process.execPath'], { encoding: 'utf8', timeout: NPX_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] })
    return out.trim().split('\n').pop() || null
  } catch { return null }
}

/**
 * The path of a `node` of major version `major`: this process's own, else $NODE<major>_BIN, else the `node@<major>`
 * package from npx's cache (offline), else (only when `fetch` is true, as in CI) fetched by `npx -y node@<major>`.
 */
export function nodeBinary(major: number, fetch: boolean): string | null {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  const env = process.env[`NODE${major}_BIN`]
  if (env) return env
  return execPathVia(['--offline', '-y', `node@${major}`]) ?? (fetch ? execPathVia(['-y', `node@${major}`]) : null)
}
