// Owns one fan-out worker thread: mirrors the shared ring, keeps its own cache, dispatcher and uWS app (a child app).
// Must never exit with a uWS socket open (the whole process aborts: uv_loop_close with open handles): close first.
import { parentPort, workerData } from 'node:worker_threads'
import { LastValueCache } from '../cache/last-value-cache.js'
import { LatestValues } from '../cache/latest-values.js'
import { registerPageRoutes } from '../http/page-routes.js'
import type { ReadyState } from '../http/routes.js'
import { createLogger } from '../log.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { SymbolTable } from '../model/symbols.js'
import { SymbolSequences } from '../normalize/symbol-sequences.js'
import { TickRing } from '../ring/ring-buffer.js'
import { Dispatcher } from './dispatcher.js'
import type { FanoutWorkerData, FromWorker, ToWorker } from './fanout-protocol.js'
import { RingReplay } from '../resume/ring-replay.js'
import { RingMirror } from './ring-mirror.js'
import { WsServer } from './ws-server.js'
import { WsStats } from './ws-stats.js'

// Atomics.waitAsync is in Node 20 (V8 ≥ 8.7) but in TypeScript's lib only from es2024 (tsconfig is not ours to change).
type WaitAsync = (a: Int32Array, i: number, v: number) => { async: false; value: string } | { async: true; value: Promise<string> }
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

const port = parentPort!
const data = workerData as FanoutWorkerData
const log = createLogger(data.logLevel).child({ worker: data.index })
const post = (m: FromWorker): void => port.postMessage(m)

// Symbols and per-symbol counters are the ingest thread's memory, mapped here; this thread's table learns a symbol when
// its KIND_SYMBOL event passes the local dispatcher, exactly as the main thread's does.
const symbols = new SymbolTable(new SharedSymbols(data.symbols.capacity, data.symbols))
const seqs = new SymbolSequences(data.seqs.capacity, data.seqs)

const shared = new TickRing(data.ring.capacity, data.ring)
const local = new TickRing(data.ring.capacity)
const lvc = new LastValueCache(symbols.capacity)
const wsStats = new WsStats()
let readyState: ReadyState = { ready: true }
const pageRoutes = data.pageRoutes
const ws = new WsServer({
  ...data.ws, ready: () => readyState, extraRoutes: pageRoutes ? (app) => registerPageRoutes(app, pageRoutes) : undefined,
}, symbols, lvc, wsStats, log)
const dispatcher = new Dispatcher(local, lvc, symbols, seqs, ws, null, (lost, named) => {
  log.warn({ lost, symbols: named }, 'fan-out worker lapped by the feed: affected symbols conflated or marked stale (lapped)')
}, data.latest !== null ? { latest: new LatestValues(data.latest.capacity, data.latest) } : null)
dispatcher.pacer.pace(data.dispatchIntervalMs, data.dispatchMaxBusyPct / 100)
ws.enableResume(new RingReplay(local, lvc, symbols, () => dispatcher.position, data.ws.streamEpoch ?? `worker-${data.index}`))
// lapped with the writer's latest values at hand (ingest thread): skip to the head and conflate
const mirror = new RingMirror(shared, local, (seq) => dispatcher.skipTo(seq), undefined, { skipToHead: data.latest !== null })

// Wake-up: park on the ring's generation word. Reading it before the pump means a commit that lands during the pump
// changes it, so waitAsync returns 'not-equal' at once: no lost wake-up, no polling while the feed is quiet.
let stopped = false
function loop(): void {
  if (stopped) return
  const gen = shared.sharedGeneration()
  if (mirror.pump()) { setImmediate(loop); return }
  const w = waitAsync(shared.shared, 0, gen)
  if (w.async) void w.value.then(loop)
  else setImmediate(loop)
}

function counters(): FromWorker {
  const d = dispatcher.stats, h = d.ageAtPublishSec
  return {
    t: 'stats', ws: { ...wsStats },
    dispatch: { batches: d.batches, events: d.events, lapped: d.lapped, laps: d.laps, lappedSymbols: d.lappedSymbols, conflations: d.conflations, conflatedTrades: d.conflatedTrades, frames: d.frames, frameBytes: d.frameBytes,
      ageCounts: h.counts.slice(), ageSum: h.sum, ageCount: h.count, torn: mirror.stats.torn },
  }
}

async function stop(): Promise<void> {
  if (stopped) return
  stopped = true
  dispatcher.stop()
  await ws.close() // 1001 to every client, listen socket closed, then app.close()
  await new Promise((r) => setTimeout(r, 20)) // let uWS's closed handles finish closing before the thread ends
  post(counters())
  post({ t: 'stopped' })
  Atomics.notify(shared.shared, 0) // resolves our own pending waitAsync, so nothing keeps the thread alive
  port.close()
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'ready': readyState = m.state; break
    case 'stats': post(counters()); break
    case 'stop': void stop(); break
  }
})
loop()
post({ t: 'descriptor', d: ws.serveAsChild() })
