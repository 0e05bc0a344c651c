// Owns running a Node server under the saturation benchmark with a garbage-collection trigger: SIGUSR2 → gc().
// Must never change what the server does: it only rewrites argv so the server sees its own, then imports it.
// Usage: node --expose-gc dist/bench/saturation/gc-host.js <server.js> [server args...]
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) { process.stderr.write('gc-host: run with --expose-gc\n'); process.exit(2) }
// Idle memory per connection is read after a full collection, so garbage left from start-up or from the
// connection storm is not counted as the connections' own.
process.on('SIGUSR2', () => { gc(); gc() })
const entry = resolve(process.argv[2] ?? '')
process.argv.splice(1, 2, entry)
await import(pathToFileURL(entry).href)
