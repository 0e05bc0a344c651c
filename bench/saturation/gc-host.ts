// Owns running a Node server under the saturation benchmark with a garbage-collection trigger: SIGUSR2 → gc() in the
// main isolate and in every worker thread's, then the heaps' own figures written to gcStatsPath(pid). Must never change
// what the server does: it rewrites argv so the server sees its own, wraps each Worker's entry in a GC listener, and
// imports the server.
// Usage: node --expose-gc dist/bench/saturation/gc-host.js <server.js> [server args...]
import { writeFileSync } from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import v8 from 'node:v8'
import type * as WorkerThreads from 'node:worker_threads'

/** where the server under gc-host writes its heap figures after each SIGUSR2 collection (idle-memory.ts reads them) */
export const gcStatsPath = (pid: number): string => join(tmpdir(), `tickcast-gc-host-${pid}.json`)

/** after a full collection, summed over the main isolate and every worker's: V8's committed pages and live objects */
export interface GcStats { isolates: number; heapCommitted: number; heapUsed: number; external: number }

const CHANNEL = 'tickcast-gc-host'
const gc = (globalThis as { gc?: () => void }).gc

/**
 * Why workers too: tickcast ingests on its own thread (issue 12), an isolate the main thread's gc() never reaches. Its
 * start-up garbage, collected whenever V8 gets to it, moved the process's RSS by ±3 MiB between idle readings (2,000
 * connections cost ~1 MiB): wave figures of -1,819 B per connection. Each worker entry is wrapped so it collects and
 * answers on a BroadcastChannel; its workerData and parentPort stay the server's.
 */
let liveWorkers = 0

function wrapWorkers(wt: typeof WorkerThreads): void {
  const Base = wt.Worker
  wt.Worker = class extends Base {
    constructor(entry: string | URL, opts: WorkerThreads.WorkerOptions = {}) {
      if (opts.eval === true) { super(entry, opts); return }
      const href = entry instanceof URL ? entry.href : pathToFileURL(resolve(entry)).href
      super(`const { BroadcastChannel } = require('node:worker_threads'), v8 = require('node:v8')
const bc = new BroadcastChannel(${JSON.stringify(CHANNEL)}); bc.unref()
bc.onmessage = (e) => {
  if (e.data !== 'gc') return
  globalThis.gc?.(); globalThis.gc?.()
  const h = v8.getHeapStatistics()
  bc.postMessage({ heapCommitted: h.total_physical_size, heapUsed: h.used_heap_size })
}
import(${JSON.stringify(href)}).catch((e) => { process.nextTick(() => { throw e }) })`, { ...opts, eval: true })
      liveWorkers++
      this.once('exit', () => { liveWorkers-- })
    }
  } as typeof Base
  syncBuiltinESMExports()
}

function main(): void {
  if (!gc) { process.stderr.write('gc-host: run with --expose-gc\n'); process.exit(2) }
  const wt = createRequire(import.meta.url)('node:worker_threads') as typeof WorkerThreads
  wrapWorkers(wt)
  const bc = new wt.BroadcastChannel(CHANNEL)
  bc.unref()
  const answers: Array<{ heapCommitted: number; heapUsed: number }> = []
  bc.onmessage = (e: unknown) => { answers.push((e as { data: { heapCommitted: number; heapUsed: number } }).data) }
  // Idle memory per connection is read after a full collection, so garbage left from start-up or from the
  // connection storm is not counted as the connections' own. The figures let the benchmark say how much of a
  // connection's resident cost is V8's (live objects) and how much is native (uWS, malloc).
  process.on('SIGUSR2', () => {
    answers.length = 0
    bc.postMessage('gc')
    gc(); gc()
    // every live worker answers within a turn or two of its own loop; a sum without one would be megabytes short
    // (measured: a worker answering late on a loaded machine read as -2,723 B of live JS per connection)
    const until = performance.now() + 3000
    const write = (): void => {
      if (answers.length < liveWorkers && performance.now() < until) { setTimeout(write, 10); return }
      const h = v8.getHeapStatistics(), m = process.memoryUsage()
      const s: GcStats = { isolates: 1 + answers.length, heapCommitted: h.total_physical_size, heapUsed: h.used_heap_size, external: m.external }
      for (const a of answers) { s.heapCommitted += a.heapCommitted; s.heapUsed += a.heapUsed }
      try { writeFileSync(gcStatsPath(process.pid), JSON.stringify(s)) } catch { /* a reading without heap figures */ }
    }
    setTimeout(write, 10)
  })
  const entry = resolve(process.argv[2] ?? '')
  process.argv.splice(1, 2, entry)
  void import(pathToFileURL(entry).href)
}

if (process.argv[1]?.endsWith('gc-host.js')) main()
