// Owns the idle-memory comparison: server memory per connection with the feed quiet and after a full GC of every
// isolate, tickcast against bare uWebSockets.js in the same run. Must never measure while data flows: the feed runs
// at 1 message/s.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { gcStatsPath } from './gc-host.js'
import type { GcStats } from './gc-host.js'
import { LoadGroup } from './load-procs.js'
import type { IdleResult, SaturationOptions } from './results.js'
import { SteppedSim } from './sim-control.js'
import { WIRE, startSystem } from './systems.js'
import type { RunningSystem, SystemName } from './systems.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const STABLE_TRIES = 3, STABLE_BYTES = 128 * 1024, UNMAP_SETTLE_MS = 500

/** anonymous resident memory (heap, stacks, socket buffers of the process): RSS without the file-backed pages of
 *  code and libraries, which grow as new code paths run and are no connection's cost */
function rssAnonBytes(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
    return m ? Number(m[1]) * 1024 : 0
  } catch { return 0 }
}

/** the heap figures gc-host wrote after the collection just asked for (null: the server runs outside gc-host) */
async function gcStats(pid: number): Promise<GcStats | null> {
  for (let k = 0; k < 160; k++) { // gc-host waits up to 3 s for every worker's answer
    if (existsSync(gcStatsPath(pid))) { try { return JSON.parse(readFileSync(gcStatsPath(pid), 'utf8')) as GcStats } catch { /* being written */ } }
    await sleep(25)
  }
  return null
}

/**
 * One reading, after a full GC of every isolate: native memory (anonymous RSS less the pages V8 has committed) plus
 * the bytes of live JS objects. Why not anonymous RSS alone: V8 commits and releases heap pages (256 KiB) by its own
 * sizing rules, so after the same GC the committed heap moved by -2.8 MiB or +0.8 MiB across one wave of 2,000 idle
 * connections whose live objects grew 0.5-0.8 MiB (measured: per-connection figures from -1,137 to +879 B in one run).
 * Live bytes are what a connection keeps; the pages around them are the heap's sizing, not the connection's.
 */
interface Reading { anon: number; cost: number; heapUsed: number; isolates: number }
async function reading(sys: RunningSystem, unmapMs: number): Promise<Reading> {
  for (const p of sys.pids) rmSync(gcStatsPath(p), { force: true })
  await sys.gc()
  // heap figures first: they are written once every isolate has collected, so RSS is read after the last collection
  const stats = await Promise.all(sys.pids.map((p) => gcStats(p)))
  for (const p of sys.pids) rmSync(gcStatsPath(p), { force: true }) // nothing left in tmp
  // V8 hands the pages a collection freed to a background unmapper, which returns them to the OS a little later: read
  // at once, RSS still held up to 1 MiB of them (tickcast's native figure moved 150-600 B per connection between waves)
  await sleep(unmapMs)
  const anon = sys.pids.reduce((s, p) => s + rssAnonBytes(p), 0)
  let cost = anon, heapUsed = 0, isolates = 0
  for (const st of stats) if (st !== null) { cost += st.heapUsed - st.heapCommitted; heapUsed += st.heapUsed; isolates += st.isolates }
  return { anon, cost, heapUsed, isolates }
}

const QUIET_RATE = 1
/** a warm-up wave, then this many of each kind (unsubscribed, subscribed): each kind's figure is over all of them */
const UNSUBSCRIBED_WAVES = 3, WAVES = 1 + 2 * UNSUBSCRIBED_WAVES

/** Idle = connected with the feed quiet: unsubscribed, then subscribed to the clients' symbols (bare uWS: uWS topics). */
export async function idleMemory(name: SystemName, round: number, o: SaturationOptions, names: string[], clients: string[][]): Promise<IdleResult> {
  const r: IdleResult = { system: name, round, status: 'ok', conns: clients.length, connected: 0, rssMiB: [], bytesPerConn: 0, bytesPerConnSubscribed: 0, firstWaveBytesPerConn: 0 }
  let sim: SteppedSim | null = null, sys: RunningSystem | null = null, load: LoadGroup | null = null
  try {
    // bare uWS has no feed; it gets none, rather than a connection it would never read
    if (name !== 'bare-uws') sim = await SteppedSim.start(QUIET_RATE, o.symbols)
    sys = await startSystem(name, sim?.port ?? 0, o.tickcastArgs)
    load = new LoadGroup(o.procs, 20_000)
    await load.ready()
    // Seven waves, each read after a full GC: one warm-up (unsubscribed: start-up garbage, the heap space the first
    // connections make V8 and malloc reserve, code compiled on first use), then three unsubscribed and three
    // subscribed (the clients' symbols, as under load). Each kind's figure is its growth over its three waves: one
    // wave of 2,000 connections still moved by ±150 B each between waves of the same kind (measured). A reading is
    // taken once two in a row agree: a server still settling (the feed's opening, lazy allocations) otherwise shrinks
    // or grows under the connections' figure.
    const once = async (): Promise<Reading> => { await sleep(o.idleSettleSec * 1000); return reading(sys!, Math.min(UNMAP_SETTLE_MS, o.idleSettleSec * 500)) }
    const settled = async (): Promise<Reading> => {
      let prev = await once()
      for (let k = 0; k < STABLE_TRIES; k++) { const cur = await once(); if (Math.abs(cur.cost - prev.cost) <= STABLE_BYTES) return cur; prev = cur }
      return prev
    }
    const q = Math.floor(clients.length / WAVES) // equal waves: the remainder (< WAVES clients) stays out
    const waves = Array.from({ length: WAVES }, (_, k) => clients.slice(k * q, (k + 1) * q)).map((w, k) => k <= UNSUBSCRIBED_WAVES ? w.map(() => []) : w)
    const at = [await settled()]
    const got: number[] = []
    for (const w of waves) {
      got.push((await load.connect(WIRE[name], sys, names, w, o.connectTimeoutMs)).connected)
      at.push(await settled())
    }
    const mib = (b: number): number => Math.round(b / 2 ** 20 * 10) / 10
    const per = (k: number, f: (x: Reading) => number): number => Math.round((f(at[k + 1]) - f(at[k])) / Math.max(1, got[k]))
    // over the three waves of a kind: what a reading's level is off by (pages V8 or malloc hold at that moment) is
    // divided by 6,000 connections rather than 2,000; a median of per-wave figures keeps that noise whole
    const across = (from: number, f: (x: Reading) => number): number =>
      Math.round((f(at[from + UNSUBSCRIBED_WAVES]) - f(at[from])) / Math.max(1, got.slice(from, from + UNSUBSCRIBED_WAVES).reduce((x, y) => x + y, 0)))
    const perWave = (f: (x: Reading) => number): string => got.map((_, k) => per(k, f)).join(', ')
    const cost = (x: Reading): number => x.cost, anon = (x: Reading): number => x.anon, js = (x: Reading): number => x.heapUsed
    r.connected = got.reduce((s, n) => s + n, 0)
    r.rssMiB = at.map((x) => mib(x.anon))
    r.bytesPerConn = across(1, cost)
    r.bytesPerConnSubscribed = across(1 + UNSUBSCRIBED_WAVES, cost)
    r.firstWaveBytesPerConn = per(0, cost)
    if (r.connected < WAVES * q) { r.status = 'failed'; r.error = `accepted ${r.connected} of ${WAVES * q} connections` }
    else if (r.bytesPerConn <= 0 || r.bytesPerConnSubscribed <= 0) {
      // memory fell while connections were added: the process's own drift outweighed them, so no figure is given
      r.status = 'failed'; r.error = `RSS fell across waves (${perWave(cost)} B per connection, native plus live JS): noise larger than the connections' cost; use more --idle-conns`
    }
    o.log(`  idle ${name.padEnd(9)} ${r.connected} connections in ${WAVES} waves of ${q} (warm-up, ${UNSUBSCRIBED_WAVES} unsubscribed, ${UNSUBSCRIBED_WAVES} subscribed to ${o.symbolsPerSub} symbols), after GC: ` +
      `${r.bytesPerConn} B each unsubscribed, ${r.bytesPerConnSubscribed} B subscribed (over each kind's three waves); per wave ${perWave(cost)} B ` +
      `(live JS ${perWave(js)} B in ${at.map((x) => x.isolates).join('/')} isolates; anonymous RSS alone ${perWave(anon)} B; anonymous RSS ${r.rssMiB.join(' → ')} MiB)`)
  } catch (e) {
    r.status = 'failed'; r.error = (e as Error).message
    o.log(`  idle ${name}: FAILED ${r.error}`)
  } finally {
    await load?.close().catch(() => {})
    await sys?.stop().catch(() => {})
    await sim?.stop().catch(() => {})
  }
  return r
}
