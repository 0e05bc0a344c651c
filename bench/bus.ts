// Benchmark: the bus path (feed → ingest → 3-node JetStream → edge → client) beside a single tickcast node fed
// directly, same simulator load, in one command: data age, highest lossless rate, failover. Never used by the server.
import { cpus, loadavg } from 'node:os'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadUniverse } from '../feeds/sim/universe.js'
import type { ClientSpec } from './lib/load-worker.js'
import { cpuSec, stopAll } from './lib/procs.js'
import { startCluster, NATS_BIN } from './bus/cluster.js'
import type { BenchCluster } from './bus/cluster.js'
import { measureFailover } from './bus/failover.js'
import type { FailoverFigures } from './bus/failover.js'
import { combined, NodeLoad } from './bus/load.js'
import type { NodeFigures } from './bus/load.js'
import { num, scrape, Sim, startNode } from './bus/nodes.js'
import type { Node } from './bus/nodes.js'

const USAGE = `Usage: npm run bench:bus -- [options]

Runs the same simulator load twice in one command: through a single tickcast node (feed → node → clients), then
through the bus path (feed → ingest node → a --nats-nodes NATS JetStream cluster → two edge nodes → clients), and prints
data age (feed timestamp → client receive) p50/p99/p99.9, the highest rate each sustains with no loss, delivered
updates/s per node, and the time for an edge's clients (TickcastClient with both edges' URLs) to resume on the other
edge after it is killed. On a small or loaded machine scale down with --clients / --rate and say so.

  --rate <n>               quotes/s for the data-age run and the failover      (default 20000)
  --clients <n>            clients per edge (and on the single node)            (default 1000)
  --symbols <n>            simulator symbols                                    (default 500)
  --symbols-per-client <n>                                                     (default 5)
  --duration-sec <n>       measured seconds of the data-age run                 (default 10)
  --step-rates <list>      rates tried, in order, for the highest lossless one  (default 5000,10000,20000,40000,80000,160000)
  --step-sec <n>           measured seconds per step                            (default 5)
  --failover-clients <n>   TickcastClients moved by the failover                (default 100)
  --nats-nodes <n>         JetStream cluster size (stream replicas = min(3, n)) (default 3)
  --procs <n>              load-generator processes per node                    (default 1)
  --out <file>             results JSON (default bench/results/bus-<time>.json)
  --max-sec <n>            hard stop of the whole run                           (default 600)
  --help                   this text
`
let parsed
try {
  parsed = parseArgs({ options: {
    rate: { type: 'string', default: '20000' }, clients: { type: 'string', default: '1000' }, symbols: { type: 'string', default: '500' },
    'symbols-per-client': { type: 'string', default: '5' }, 'duration-sec': { type: 'string', default: '10' },
    'step-rates': { type: 'string', default: '5000,10000,20000,40000,80000,160000' }, 'step-sec': { type: 'string', default: '5' },
    'failover-clients': { type: 'string', default: '100' }, 'nats-nodes': { type: 'string', default: '3' }, procs: { type: 'string', default: '1' },
    out: { type: 'string' }, 'max-sec': { type: 'string', default: '600' }, help: { type: 'boolean', default: false },
  } })
} catch (e) { process.stderr.write(`bench:bus: ${(e as Error).message}\n\n${USAGE}`); process.exit(2) }
const a = parsed.values
if (a.help) { process.stdout.write(USAGE); process.exit(0) }
const int = (k: keyof typeof a): number => {
  const v = Number(a[k])
  if (!Number.isInteger(v) || v < 1) { process.stderr.write(`bench:bus: --${k} must be a positive integer\n`); process.exit(2) }
  return v
}
const RATE = int('rate'), CLIENTS = int('clients'), SYMBOLS = int('symbols'), PER_CLIENT = int('symbols-per-client'), DURATION_MS = int('duration-sec') * 1000
const STEP_MS = int('step-sec') * 1000, FAILOVER_CLIENTS = int('failover-clients'), NATS_NODES = int('nats-nodes'), PROCS = int('procs')
const STEPS = a['step-rates']!.split(',').map(Number)
if (STEPS.some((r) => !Number.isInteger(r) || r < 1)) { process.stderr.write('bench:bus: --step-rates takes positive integers\n'); process.exit(2) }
const abort = (why: string, code: number): void => { console.error(`bench:bus stopped: ${why}`); void stopAll().then(() => process.exit(code)) }
setTimeout(() => abort(`over --max-sec ${a['max-sec']}`, 1), int('max-sec') * 1000).unref()
process.once('SIGINT', () => abort('SIGINT', 130))
process.once('SIGTERM', () => abort('SIGTERM', 143))

const SEED = 13, WARMUP_MS = 2000, SETTLE_MS = 1000
/** the simulator's rate while nodes boot and clients connect (slow under load): a short history to catch up on */
const BOOT_RATE = 100
const EPOCH = 'bench-bus'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const names = loadUniverse().slice(0, SYMBOLS).map((r) => r.symbol)
/** deterministic per client index, the same on every node: LCG picks without repeats */
function specs(n: number): ClientSpec[] {
  return Array.from({ length: n }, (_, c) => {
    let x = (c * 2654435761 + 1) >>> 0
    const chosen = new Set<string>()
    while (chosen.size < Math.min(PER_CLIENT, names.length)) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; chosen.add(names[x % names.length]) }
    return { symbols: [...chosen], paused: false }
  })
}

interface Step {
  rate: number; offeredPerSec: number; acceptedPerSec: number; publishedPerSec?: number; consumedPerSec?: number[]
  /** at the step's end: feed messages the ingest had not read, ring events not yet published, events each edge lacked */
  feedBehind?: number; publishBehind?: number; edgeLag?: number[]; lapped: number; publishFailures?: number; updatesPerSecPerNode: number[]; p99Ms: number; lossless: boolean; why: string
}

interface Run {
  path: 'single' | 'bus'
  /** keptUp: the run's window as a step (loss and backlog at --rate: a machine that cannot sustain it says so here) */
  dataAge: { rate: number; perNode: NodeFigures[]; all: { samples: number; p50Ms: number; p99Ms: number; p999Ms: number }; keptUp: Step }
  /** false: the path had not caught up with the feed's boot history when measuring began (the backlog is in the figures) */
  caughtUp: boolean
  steps: Step[]
  /** the highest offered rate of a lossless step (null: not even the first) */
  maxLosslessRate: number | null
  deliveredUpdatesPerSecPerNode: number[] | null
  /** single node: CPU time per feed event over the data-age run, its clients' deliveries included */
  cpuUsPerEvent?: number
}

const FANOUT_LAPPED = 'tickcast_ring_consumer_lapped_events_total{consumer="fanout"}'

interface Edge { node: Node; load: NodeLoad }

/**
 * One measured window at `rate`: what each stage took in and how far behind the one before it each is at the end, what
 * was lapped or failed, and the clients' updates/s and data age. The data-age run is such a window too, so a machine
 * that cannot sustain --rate prints its figures with the loss and backlog beside them, never hides them.
 */
async function measure(sim: Sim, feedNode: Node, edges: Edge[], bus: boolean, rate: number, windowMs: number): Promise<{ step: Step; reps: NodeFigures[] }> {
  const nodes = bus ? [feedNode, ...edges.map((e) => e.node)] : [feedNode]
  const m0 = await Promise.all(nodes.map(scrape)), c0 = await sim.count()
  await Promise.all(edges.map((e) => e.load.reset()))
  await sleep(windowMs)
  const c1 = await sim.count(), m1 = await Promise.all(nodes.map(scrape))
  const reps = await Promise.all(edges.map((e) => e.load.report()))
  const secs = (c1.timeMs - c0.timeMs) / 1000
  const d = (k: number, key: string): number => num(m1[k], key) - num(m0[k], key)
  const offered = (c1.messages - c0.messages) / secs, accepted = d(0, 'tickcast_feed_messages_total') / secs
  const lapped = nodes.reduce((s, _n, k) => s + d(k, FANOUT_LAPPED), 0) + (bus ? d(0, 'tickcast_bus_publish_lapped_events_total') : 0)
  const step: Step = { rate, offeredPerSec: Math.round(offered), acceptedPerSec: Math.round(accepted), lapped, updatesPerSecPerNode: reps.map((r) => r.updatesPerSec),
    p99Ms: 0, lossless: true, why: '' }
  // A window keeps up when, at its end, no stage is more than a second of feed behind the one before it (rates over a
  // few seconds jitter on a shared machine; a backlog that stays bounded is not loss) and nothing was lapped or failed.
  const why: string[] = []
  if (offered < 0.9 * rate) why.push(`simulator offered only ${Math.round(offered)}/s`)
  const feedBehind = c1.messages - num(m1[0], 'tickcast_feed_messages_total')
  step.feedBehind = feedBehind
  if (feedBehind > rate) why.push(`ingest ${feedBehind} messages behind the feed`)
  if (lapped > 0) why.push(`${lapped} events lapped (lost)`)
  if (bus) {
    const published = d(0, 'tickcast_bus_publishes_total') / secs
    const ring = num(m1[0], 'tickcast_ring_events_total'), read = num(m1[0], 'tickcast_bus_publishes_total') - num(m1[0], 'tickcast_bus_publish_resent_events_total')
    step.publishedPerSec = Math.round(published)
    step.publishFailures = d(0, 'tickcast_bus_publish_failures_total')
    step.publishBehind = ring - read
    step.consumedPerSec = edges.map((_e, k) => Math.round(d(k + 1, 'tickcast_bus_consume_messages_total') / secs))
    // each edge against the ingest ring (the stream stores each event once: its sequence counts ring events)
    step.edgeLag = edges.map((_e, k) => Math.max(0, read - num(m1[k + 1], 'tickcast_bus_consume_stream_sequence')))
    if (step.publishFailures > 0) why.push(`${step.publishFailures} publish failures`)
    if (step.publishBehind > rate) why.push(`publisher ${step.publishBehind} events behind the ring`)
    step.edgeLag.forEach((l, k) => { if (l > rate) why.push(`edge ${k} ${l} events behind the stream`) })
  }
  step.lossless = why.length === 0; step.why = why.join('; ')
  return { step, reps }
}

function stepLine(step: Step, bus: boolean): string {
  return `offered ${step.offeredPerSec}, accepted ${step.acceptedPerSec}${bus ? `, published ${step.publishedPerSec}, edges consumed ${step.consumedPerSec!.join('/')} (behind: feed ${step.feedBehind}, publisher ${step.publishBehind}, edges ${step.edgeLag!.join('/')})` : ` (ingest ${step.feedBehind} behind the feed)`}, updates/s per node ${step.updatesPerSecPerNode.join('/')}, p99 ${step.p99Ms} ms → ${step.lossless ? 'kept up, nothing lost' : `NOT SUSTAINED: ${step.why}`}`
}

/** Steps the offered rate up until a step loses something (or the feed cannot be offered that fast). */
async function sustain(sim: Sim, feedNode: Node, edges: Edge[], bus: boolean): Promise<Step[]> {
  const steps: Step[] = []
  for (const rate of STEPS) {
    await sim.setRate(rate)
    await sleep(SETTLE_MS)
    const { step, reps } = await measure(sim, feedNode, edges, bus, rate, STEP_MS)
    step.p99Ms = combined(reps).p99Ms
    steps.push(step)
    console.log(`  step ${String(rate).padStart(7)}/s: ${stepLine(step, bus)}`)
    if (!step.lossless) break
  }
  await sim.setRate(RATE)
  return steps
}

async function dataAge(sim: Sim, feedNode: Node, edges: Edge[], bus: boolean): Promise<Run['dataAge']> {
  await sleep(WARMUP_MS)
  const { step, reps } = await measure(sim, feedNode, edges, bus, RATE, DURATION_MS)
  const all = combined(reps)
  step.p99Ms = all.p99Ms
  console.log(`  data-age run at ${RATE}/s: ${stepLine(step, bus)}`)
  return { rate: RATE, perNode: reps, all, keptUp: step }
}

function summarise(path: Run['path'], age: Run['dataAge'], steps: Step[], caught: boolean): Run {
  const ok = steps.filter((s) => s.lossless)
  const best = ok[ok.length - 1]
  return { path, dataAge: age, caughtUp: caught, steps, maxLosslessRate: best?.offeredPerSec ?? null, deliveredUpdatesPerSecPerNode: best?.updatesPerSecPerNode ?? null }
}

async function singleRun(): Promise<Run> {
  console.log(`single node: simulator ${RATE}/s, ${SYMBOLS} symbols → tickcast → ${CLIENTS} clients × ${PER_CLIENT} symbols`)
  const sim = await Sim.start(BOOT_RATE, SYMBOLS, SEED)
  const node = await startNode('single', ['--feed', `sim=native:tcp://127.0.0.1:${sim.port}`, '--stream-epoch', EPOCH])
  const load = await NodeLoad.connect('single', node.port, specs(CLIENTS), PROCS)
  try {
    await sim.setRate(RATE)
    const caught = await caughtUp(sim, node, [])
    const cpu0 = cpuSec(node.child.pid!), e0 = num(await scrape(node), 'tickcast_ring_events_total')
    const age = await dataAge(sim, node, [{ node, load }], false)
    const cpuUsPerEvent = Math.round((cpuSec(node.child.pid!) - cpu0) / Math.max(1, num(await scrape(node), 'tickcast_ring_events_total') - e0) * 1e7) / 10
    console.log(`  CPU per event: ${cpuUsPerEvent} µs (its clients' deliveries included)`)
    console.log(`  data age p50 ${age.all.p50Ms} / p99 ${age.all.p99Ms} / p99.9 ${age.all.p999Ms} ms, ${age.perNode[0].updatesPerSec} updates/s to ${load.connected} clients`)
    return { ...summarise('single', age, await sustain(sim, node, [{ node, load }], false), caught), cpuUsPerEvent }
  } finally { await load.close(); await node.stop(); await sim.stop() }
}

/**
 * The ingest node logs in at the feed's first message (the simulator ran while the nodes booted) and publishes that
 * history to the stream: data age is measured once the ingest node and every edge have caught up with the live
 * feed (bounded; the time it took is printed).
 */
async function caughtUp(sim: Sim, ingest: Node, edges: Node[], timeoutMs = 90_000): Promise<boolean> {
  const t0 = Date.now(), slack = Math.max(1000, RATE) // a second of feed: the history is many seconds
  let good = 0, last = '', prevRing = Infinity
  while (good < 2) {
    if (Date.now() - t0 > timeoutMs) {
      // a path that cannot keep up at --rate is measured anyway: its figures carry the backlog and say so
      console.log(`  NOT CAUGHT UP with the feed after ${timeoutMs / 1000} s (${last}): measuring anyway, the backlog is in the figures`)
      return false
    }
    await sleep(500)
    const sent = (await sim.count()).messages, mi = await scrape(ingest), me = await Promise.all(edges.map(scrape))
    const ring = num(mi, 'tickcast_ring_events_total'), read = num(mi, 'tickcast_bus_publishes_total') - num(mi, 'tickcast_bus_publish_resent_events_total')
    // the publisher within a second of the feed, and every edge holds all the ingest node had half a second ago (the
    // stream stores each event once, so an edge's stream sequence counts the ingest ring's events)
    const ok = sent - num(mi, 'tickcast_feed_messages_total') <= slack && (edges.length === 0 || ring - read <= slack) && me.every((m) => num(m, 'tickcast_bus_consume_stream_sequence') >= prevRing)
    prevRing = ring
    good = ok ? good + 1 : 0
    last = `feed sent ${sent}, ingest read ${num(mi, 'tickcast_feed_messages_total')}, ring ${ring}, published ${read}; edges at ${me.map((m) => num(m, 'tickcast_bus_consume_stream_sequence')).join('/')}, lag ${me.map((m) => num(m, 'tickcast_bus_consume_lag_messages')).join('/')}`
    if (process.env.BENCH_BUS_DEBUG) console.log(`  ${last}`)
  }
  console.log(`  caught up with the feed's history in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return true
}

/** Per stored event over the data-age run: what crossed into, out of and inside the cluster (bytes include protocol). */
interface BusTraffic {
  /** CPU time (user + system, all threads) per event over the data-age run: load-independent, unlike rates */
  ingestCpuUsPerEvent: number; edgeCpuUsPerEvent: number; natsCpuUsPerEvent?: number
  events: number; ingestBytesPerEvent: number; edgeBytesPerEventPerEdge: number; routeBytesPerEvent: number; routeMsgsPerEvent: number }

async function busRun(cluster: BenchCluster): Promise<{ run: Run; failover: FailoverFigures | { error: string }; traffic: BusTraffic }> {
  const replicas = Math.min(3, NATS_NODES)
  console.log(`bus: simulator ${RATE}/s → ingest → ${NATS_NODES}-node JetStream (R${replicas}) → 2 edges → ${CLIENTS} clients each`)
  const sim = await Sim.start(BOOT_RATE, SYMBOLS, SEED)
  const bus = ['--bus-stream', 'bench', '--stream-epoch', EPOCH]
  const ingest = await startNode('ingest', ['--feed', `sim=native:tcp://127.0.0.1:${sim.port}`, '--bus', cluster.urls, '--bus-replicas', String(replicas), ...bus])
  const edgeA = await startNode('edge-a', ['--source', cluster.urls, ...bus]), edgeB = await startNode('edge-b', ['--source', cluster.urls, ...bus])
  const loads = [await NodeLoad.connect('edge-a', edgeA.port, specs(CLIENTS), PROCS), await NodeLoad.connect('edge-b', edgeB.port, specs(CLIENTS), PROCS)]
  try {
    await sim.setRate(RATE)
    const caught = await caughtUp(sim, ingest, [edgeA, edgeB])
    const t0 = await cluster.traffic(), e0 = num(await scrape(ingest), 'tickcast_ring_events_total')
    const cpu0 = [ingest, edgeA, edgeB].map((n) => cpuSec(n.child.pid!))
    const edges = [{ node: edgeA, load: loads[0] }, { node: edgeB, load: loads[1] }]
    const age = await dataAge(sim, ingest, edges, true)
    const t1 = await cluster.traffic(), events = Math.max(1, num(await scrape(ingest), 'tickcast_ring_events_total') - e0)
    const cpu = [ingest, edgeA, edgeB].map((n, k) => cpuSec(n.child.pid!) - cpu0[k])
    const traffic: BusTraffic = { ingestCpuUsPerEvent: Math.round(cpu[0] / events * 1e7) / 10, edgeCpuUsPerEvent: Math.round((cpu[1] + cpu[2]) / 2 / events * 1e7) / 10, events, ingestBytesPerEvent: Math.round((t1.ingestBytes - t0.ingestBytes) / events),
      edgeBytesPerEventPerEdge: Math.round((t1.edgeBytes - t0.edgeBytes) / events / 2), routeBytesPerEvent: Math.round((t1.routeBytes - t0.routeBytes) / events),
      routeMsgsPerEvent: Math.round((t1.routeMsgs - t0.routeMsgs) / events * 100) / 100 }
    console.log(`  CPU per event: ingest node ${traffic.ingestCpuUsPerEvent} µs, each edge ${traffic.edgeCpuUsPerEvent} µs (its clients' deliveries included)`)
    console.log(`  bus traffic per event: ingest → cluster ${traffic.ingestBytesPerEvent} B, cluster → each edge ${traffic.edgeBytesPerEventPerEdge} B, between NATS nodes ${traffic.routeBytesPerEvent} B (${traffic.routeMsgsPerEvent} messages)`)
    console.log(`  data age p50 ${age.all.p50Ms} / p99 ${age.all.p99Ms} / p99.9 ${age.all.p999Ms} ms, updates/s per edge ${age.perNode.map((f) => f.updatesPerSec).join('/')}`)
    const steps = await sustain(sim, ingest, edges, true)
    await sleep(2000) // back at --rate: the edges catch up before one of them dies
    // a machine that cannot carry the load may fail the failover's preconditions: said, and the figures above kept
    let failover: FailoverFigures
    try { failover = await measureFailover(edgeA, edgeB, names, FAILOVER_CLIENTS, PER_CLIENT, 20_000) } catch (e) {
      console.log(`  failover NOT MEASURED: ${(e as Error).message}`)
      return { run: summarise('bus', age, steps, caught), failover: { error: (e as Error).message }, traffic }
    }
    console.log(`  failover: ${failover.resumed}/${failover.clients} clients resumed on the other edge, p50 ${failover.p50Ms} ms, max ${failover.maxMs} ms; recovered ${failover.recovered}, snapshots ${failover.unrecovered}, ~${failover.eventsReplayed} events replayed, ${failover.breaks} n breaks`)
    return { run: summarise('bus', age, steps, caught), failover, traffic }
  } finally {
    await Promise.all(loads.map((l) => l.close()))
    await Promise.all([edgeA.stop(), edgeB.stop(), ingest.stop()])
    await sim.stop()
  }
}

async function main(): Promise<void> {
  if (!existsSync(NATS_BIN)) throw new Error(`bench:bus needs nats-server (${NATS_BIN}; Debian package nats-server)`)
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100) }
  console.log(`machine: ${machine.cpus} × ${machine.model}, load average ${machine.loadavgAtStart.join(' ')} (figures on a loaded machine are lower bounds)`)
  const single = await singleRun()
  const cluster = await startCluster(NATS_NODES)
  let bus: Awaited<ReturnType<typeof busRun>>
  try { bus = await busRun(cluster) } finally { await cluster.stop() }
  const result = { date: new Date().toISOString(), machine: { ...machine, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    args: a, single, bus: bus.run, failover: bus.failover, busTraffic: bus.traffic }
  console.log(`\nat ${RATE} quotes/s, ${CLIENTS} clients per node (edge) × ${PER_CLIENT} symbols:`)
  const row = (c: string[]): string => `  ${c[0].padEnd(7)} ${c[1].padStart(29)}   ${c[2].padEnd(18)}   ${c[3].padEnd(17)}   ${c[4].padStart(19)}   ${c[5]}`
  console.log(row(['path', 'data age p50 / p99 / p99.9 ms', 'updates/s per node', 'kept up at --rate', 'max lossless rate/s', 'updates/s per node there']))
  for (const r of [single, bus.run]) {
    const k = r.dataAge.keptUp
    console.log(row([r.path, `${r.dataAge.all.p50Ms} / ${r.dataAge.all.p99Ms} / ${r.dataAge.all.p999Ms}`, r.dataAge.perNode.map((f) => f.updatesPerSec).join(' / '),
      k.lossless && r.caughtUp ? 'yes' : 'NO', String(r.maxLosslessRate ?? 'none'), (r.deliveredUpdatesPerSecPerNode ?? []).join(' / ')]))
    if (!k.lossless || !r.caughtUp) console.log(`          ${r.path} at --rate: ${r.caughtUp ? '' : 'never caught up with the boot history; '}${k.why}`)
  }
  const ratio = (x: number, y: number): string => (y > 0 ? (x / y).toFixed(2) : '–')
  console.log(`  bus / single: p50 ×${ratio(bus.run.dataAge.all.p50Ms, single.dataAge.all.p50Ms)}, p99 ×${ratio(bus.run.dataAge.all.p99Ms, single.dataAge.all.p99Ms)}, max lossless rate ×${ratio(bus.run.maxLosslessRate ?? 0, single.maxLosslessRate ?? 0)}`)
  console.log(`  load average at start ${machine.loadavgAtStart.join(' ')}, at end ${result.machine.loadavgAtEnd.join(' ')}`)
  const f = bus.failover
  console.log('error' in f ? `  failover: not measured (${f.error})`
    : `  failover: kill → updates on the other edge p50 ${f.p50Ms} ms, max ${f.maxMs} ms (client reconnect backoff from ${f.reconnectMinMs} ms); ~${f.eventsReplayed} events replayed`)
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = a.out ?? join(dir, `bus-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  console.log(`\nresults: ${file}`)
}

main().then(() => stopAll()).then(() => process.exit(0), async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
