// Owns a deterministic measure of the fan-out's cost per delivered update: the real WsServer and Dispatcher in this
// process over a hand-written ring, real subscribers in load processes, fixed turns of fixed events (as the simulator's
// 10 ms batches), so every run does the same work whatever the machine's load. Must never stand in for the saturation
// benchmark's end-to-end figure: it leaves out the feed, ingest and the clock; it isolates what the fan-out does.
//
// CPU: process.cpuUsage() over the measured turns (user + system: loopback sends run the receiver's TCP in the sender's
// system time). Instructions (load-independent): run it under callgrind with --callgrind; the count is switched on
// only for the measured turns (callgrind_control), so start-up and the connection storm are not in it:
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/fc.out node --expose-gc dist/bench/saturation/fanout-cost.js --callgrind
//   callgrind_annotate /tmp/fc.out | head   (total Ir / the printed deliveries = instructions per delivered update)
// --frame-interval-ms N: the server's --ws-frame-interval-ms (its frames are written by the hub's timer, so the
// instruction count is not deterministic either).
// --interval-ms N: the dispatcher drains on its own schedule, paced (--dispatch-interval-ms) instead of once per turn;
// timer-driven, so not deterministic: it prints drains per turn and the subscribers' update latency beside the cost.
import { execFile } from 'node:child_process'
import * as hdr from 'hdr-histogram-js'
import { parseArgs } from 'node:util'
import { stopAll } from '../lib/procs.js'
import { startFanoutRig } from './fanout-rig.js'
import { LoadGroup } from './load-procs.js'
import { pickSymbols } from './run.js'

const { values: a } = parseArgs({ options: {
  subs: { type: 'string', default: '1000' }, symbols: { type: 'string', default: '500' }, 'symbols-per-sub': { type: 'string', default: '50' },
  events: { type: 'string', default: '200' }, turns: { type: 'string', default: '300' }, warmup: { type: 'string', default: '50' },
  'pause-ms': { type: 'string', default: '10' }, procs: { type: 'string', default: '2' }, callgrind: { type: 'boolean', default: false },
  'interval-ms': { type: 'string', default: '' }, 'frame-interval-ms': { type: 'string', default: '0' },
} })
const SUBS = Number(a.subs), SYMBOLS = Number(a.symbols), PER_SUB = Number(a['symbols-per-sub']), EVENTS = Number(a.events)
const TURNS = Number(a.turns), WARMUP = Number(a.warmup), PAUSE_MS = Number(a['pause-ms'])
const PACED = a['interval-ms'] !== '', INTERVAL_MS = Number(a['interval-ms'])
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** callgrind_control: the event loop keeps running meanwhile (callgrind reads commands between basic blocks). */
async function instrumentation(on: boolean): Promise<void> {
  if (!a.callgrind) return
  let done = false
  execFile('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)], () => { done = true })
  while (!done) await new Promise((r) => setImmediate(r))
}

async function main(): Promise<void> {
  const { names, ring, stats, server, dispatcher, port, writeTurn } = await startFanoutRig(SYMBOLS, Number(a['frame-interval-ms']))
  if (PACED) dispatcher.pacer.pace(INTERVAL_MS) // woken by the ring (advance() does not wake: commit at the turn's end)
  else dispatcher.stop() // driven by hand below, one drain per turn
  const load = new LoadGroup(Number(a.procs), 60_000)
  await load.ready()
  const clients = Array.from({ length: SUBS }, (_, c) => pickSymbols(names, PER_SUB, c))
  const got = await load.connect('tickcast', { host: '127.0.0.1', port, path: '/v1/stream' }, names, clients, 60_000)
  const want = clients.reduce((s, c) => s + c.length, 0)
  for (let k = 0; k < 500 && stats.subscriptions < want; k++) await sleep(20)

  let delivered = 0
  function turn(): void {
    delivered += writeTurn(EVENTS, false)
    if (PACED) ring.commit(); else dispatcher.drain()
  }
  // open loop, as the simulator: turn k starts at t0 + k × pause-ms whatever the last one cost (late turns run back to back)
  async function turns(n: number): Promise<void> {
    const t0 = performance.now()
    for (let t = 0; t < n; t++) { turn(); await sleep(t0 + (t + 1) * PAUSE_MS - performance.now()) }
  }
  await turns(WARMUP)
  await sleep(200)
  // out of the measured turns: the scan timer (time-driven, not per update: a slower run would scan more per turn) and
  // garbage from the start (run node with --expose-gc, as under callgrind, for a collection here rather than mid-run)
  clearInterval((server as unknown as { scanTimer: NodeJS.Timeout }).scanTimer)
  ;(globalThis as { gc?: () => void }).gc?.()
  await load.reset()
  delivered = 0
  const frames0 = dispatcher.stats.frames, batches0 = dispatcher.stats.batches, age = dispatcher.stats.ageAtPublishSec
  const age0 = age.sum, ages0 = age.count
  await instrumentation(true)
  const c0 = process.cpuUsage(), t0 = performance.now()
  await turns(TURNS)
  await sleep(50) // the last turn's writes
  const c = process.cpuUsage(c0), wall = (performance.now() - t0) / 1000
  await instrumentation(false)
  await sleep(300)
  const reps = await load.report()
  const received = reps.reduce((s, r) => s + r.updates, 0), gaps = reps.reduce((s, r) => s + r.gaps + r.missing, 0)
  const cpuUs = c.user + c.system
  const lat = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  for (const r of reps) lat.add(hdr.decodeFromCompressedBase64(r.hist))
  console.log(JSON.stringify({
    connected: got.connected, turns: TURNS, eventsPerTurn: EVENTS, deliveries: delivered, received, gaps,
    framesPerTurn: Math.round((dispatcher.stats.frames - frames0) / TURNS), slowNotices: stats.slowConflateEntered,
    drainsPerTurn: +((dispatcher.stats.batches - batches0) / TURNS).toFixed(2), latencyP50Ms: lat.getValueAtPercentile(50) / 1000,
    latencyP99Ms: lat.getValueAtPercentile(99) / 1000,
    // written → handed to uWS, of each drain's oldest event: what pacing adds, without the load processes' own lag
    publishAgeMeanMs: +((age.sum - age0) * 1000 / Math.max(1, age.count - ages0)).toFixed(2),
    deliveriesPerSec: Math.round(delivered / wall), cpuUsPerUpdate: +(cpuUs / Math.max(1, delivered)).toFixed(4),
    userUsPerUpdate: +(c.user / Math.max(1, delivered)).toFixed(4), sysUsPerUpdate: +(c.system / Math.max(1, delivered)).toFixed(4),
  }))
  await load.close()
  await server.close()
}

main().then(async () => { await stopAll(); process.exit(0) }, async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
