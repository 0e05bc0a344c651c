// Owns a deterministic measure of the saturation load generator's own cost: CPU (and, under callgrind, instructions)
// of the load processes per received update and per WebSocket frame, with the real server sending fixed turns.
// Must never stand in for the saturation figure: it measures the measuring side, so its cost can be kept far below the servers'.
//
// The server is tickcast's WsServer and Dispatcher in this process over a hand-written ring (as fanout-cost.ts), so the
// offered work is the same every run whatever the machine's load: --turns turns of --events events, one turn per
// --pause-ms (the simulator's 10 ms batches). CPU: each load process's process.cpuUsage() between the reset and the
// report (user + system). Instructions, load-independent:
//   node dist/bench/saturation/load-cost.js --callgrind /tmp/lc     (then callgrind_annotate /tmp/lc.0 | head)
// counts only the measured turns in each load process (instrumentation switched on at the reset, off before the report).
import { parseArgs } from 'node:util'
import { loadUniverse } from '../../feeds/sim/universe.js'
import { LastValueCache } from '../../src/cache/last-value-cache.js'
import { Dispatcher } from '../../src/fanout/dispatcher.js'
import { WsServer } from '../../src/fanout/ws-server.js'
import { WsStats } from '../../src/fanout/ws-stats.js'
import { SharedSymbols } from '../../src/model/shared-symbols.js'
import { SymbolTable } from '../../src/model/symbols.js'
import { SymbolSequences } from '../../src/normalize/symbol-sequences.js'
import { FORMAT_JSON } from '../../src/codec/tick-codec.js'
import { KIND_QUOTE, KIND_TRADE, TickRing } from '../../src/ring/ring-buffer.js'
import { stopAll } from '../lib/procs.js'
import { LoadGroup } from './load-procs.js'
import { pickSymbols } from './run.js'

const { values: a } = parseArgs({ options: {
  subs: { type: 'string', default: '1000' }, symbols: { type: 'string', default: '500' }, 'symbols-per-sub': { type: 'string', default: '50' },
  events: { type: 'string', default: '50' }, turns: { type: 'string', default: '300' }, warmup: { type: 'string', default: '50' },
  'pause-ms': { type: 'string', default: '10' }, procs: { type: 'string', default: '2' }, callgrind: { type: 'string', default: '' }, 'node-args': { type: 'string', default: '' },
} })
const SUBS = Number(a.subs), SYMBOLS = Number(a.symbols), PER_SUB = Number(a['symbols-per-sub']), EVENTS = Number(a.events)
const TURNS = Number(a.turns), WARMUP = Number(a.warmup), PAUSE_MS = Number(a['pause-ms'])
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const silent = { info() {}, warn() {} }

async function main(): Promise<void> {
  const names = loadUniverse().slice(0, SYMBOLS).map((r) => r.symbol)
  const cap = 1 << Math.ceil(Math.log2(SYMBOLS + 1))
  const symbols = new SymbolTable(new SharedSymbols(cap))
  for (const n of names) symbols.learnUpTo(symbols.shared.add(n, -2, 0))
  const lvc = new LastValueCache(cap), ring = new TickRing(1 << 16), stats = new WsStats()
  const server = new WsServer({ closeGraceMs: 20 }, symbols, lvc, stats, silent)
  const dispatcher = new Dispatcher(ring, lvc, symbols, new SymbolSequences(cap), server, null)
  dispatcher.stop() // driven by hand below, one drain per turn
  const port = await server.listen('127.0.0.1', 0)
  const grind = a.callgrind !== ''
  const load = new LoadGroup(Number(a.procs), grind ? 600_000 : 60_000, { ...grind ? { callgrind: a.callgrind } : {}, ...a['node-args'] ? { nodeArgs: a['node-args'].split(' ') } : {} })
  await load.ready()
  const clients = Array.from({ length: SUBS }, (_, c) => pickSymbols(names, PER_SUB, c))
  const got = await load.connect('tickcast', { host: '127.0.0.1', port, path: '/v1/stream' }, names, clients, grind ? 600_000 : 60_000)
  const want = clients.reduce((s, c) => s + c.length, 0)
  for (let k = 0; k < (grind ? 5000 : 500) && stats.subscriptions < want; k++) await sleep(20)

  // busiest first, as the simulator's universe: symbol k gets weight 1/(k+1) (LCG, the same sequence every run)
  const cum = new Float64Array(SYMBOLS)
  for (let k = 0, s = 0; k < SYMBOLS; k++) { s += 1 / (k + 1); cum[k] = s }
  const total = cum[SYMBOLS - 1], seqs = new Float64Array(cap)
  let x = 12345, px = 10000, delivered = 0
  const counts = server.registry.counts
  function turn(): void {
    for (let e = 0; e < EVENTS; e++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0
      const u = (x / 2 ** 32) * total
      let lo = 0, hi = SYMBOLS - 1
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] < u) lo = mid + 1; else hi = mid }
      const id = lo, i = ring.nextSlot(), kind = (x & 15) === 0 ? KIND_TRADE : KIND_QUOTE
      ring.kind[i] = kind; ring.symbolId[i] = id; ring.symbolSeq[i] = ++seqs[id]; ring.code[i] = 0x42
      ring.exchTimeUs[i] = Math.floor((performance.timeOrigin + performance.now()) * 1000); ring.recvTimeMs[i] = performance.now()
      px = px >= 20000 ? 10000 : px + 1
      ring.bidPrice[i] = px; ring.bidSize[i] = 100; ring.askPrice[i] = px + 1; ring.askSize[i] = 200
      ring.tradePrice[i] = px; ring.tradeSize[i] = 5; ring.tradeId[i] = seqs[id]
      ring.advance()
      delivered += counts[(id << 1) | FORMAT_JSON]
    }
    dispatcher.drain()
  }
  for (let t = 0; t < WARMUP; t++) { turn(); await sleep(PAUSE_MS) }
  await sleep(grind ? 3000 : 300) // every warm-up byte read before the counters start
  const cpu0 = await load.resetCpu(), resetCpuUs = cpu0.cpuSec * 1e6
  delivered = 0
  await load.instrument(true)
  const t0 = performance.now()
  for (let t = 0; t < TURNS; t++) { turn(); await sleep(PAUSE_MS) }
  const wall = (performance.now() - t0) / 1000
  for (let k = 0; k < (grind ? 600 : 60); k++) { // until every process has read what was sent (bounded)
    await sleep(200)
    if (await load.updates() >= delivered) break
  }
  await load.instrument(false)
  const reps = await load.report()
  const updates = reps.reduce((s, r) => s + r.updates, 0), frames = reps.reduce((s, r) => s + r.frames, 0)
  const bad = reps.reduce((s, r) => s + r.gaps + r.dups + r.stale + r.snaps, 0)
  const loadCpuUs = reps.reduce((s, r) => s + r.cpuSec, 0) * 1e6 - resetCpuUs
  const userUs = reps.reduce((s, r) => s + r.cpuUserSec, 0) * 1e6 - cpu0.cpuUserSec * 1e6, reads = reps.reduce((s, r) => s + r.reads, 0)
  console.log(JSON.stringify({
    connected: got.connected, turns: TURNS, eventsPerTurn: EVENTS, wallSec: +wall.toFixed(2), delivered, updates, frames, reads, bad,
    updatesPerSec: Math.round(updates / wall), framesPerSec: Math.round(frames / wall),
    loadCpuPct: Math.round(loadCpuUs / 1e4 / wall), loadNsPerUpdate: Math.round((loadCpuUs / updates) * 1000), loadNsPerFrame: Math.round((loadCpuUs / frames) * 1000),
    loadNsPerRead: Math.round((loadCpuUs / reads) * 1000), userShare: +(userUs / loadCpuUs).toFixed(2),
    loadavg: (await import('node:os')).loadavg().map((l) => +l.toFixed(2)),
  }))
  await load.close()
  await server.close()
}

main().then(async () => { await stopAll(); process.exit(0) }, async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
