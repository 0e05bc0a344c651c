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
import { stopAll } from '../lib/procs.js'
import { startFanoutRig } from './fanout-rig.js'
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

async function main(): Promise<void> {
  const { names, stats, server, dispatcher, port, writeTurn } = await startFanoutRig(SYMBOLS)
  dispatcher.stop() // driven by hand below, one drain per turn
  const grind = a.callgrind !== ''
  const load = new LoadGroup(Number(a.procs), grind ? 600_000 : 60_000, { ...grind ? { callgrind: a.callgrind } : {}, ...a['node-args'] ? { nodeArgs: a['node-args'].split(' ') } : {} })
  await load.ready()
  const clients = Array.from({ length: SUBS }, (_, c) => pickSymbols(names, PER_SUB, c))
  const got = await load.connect('tickcast', { host: '127.0.0.1', port, path: '/v1/stream' }, names, clients, grind ? 600_000 : 60_000)
  const want = clients.reduce((s, c) => s + c.length, 0)
  for (let k = 0; k < (grind ? 5000 : 500) && stats.subscriptions < want; k++) await sleep(20)

  let delivered = 0
  function turn(): void {
    delivered += writeTurn(EVENTS, true)
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
