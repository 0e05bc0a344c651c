// Owns the idle-memory comparison: server RSS per connection with the feed quiet and after a full GC, tickcast
// against bare uWebSockets.js in the same run. Must never measure while data flows: the feed runs at 1 message/s.
import { readFileSync } from 'node:fs'
import { LoadGroup } from './load-procs.js'
import type { IdleResult, SaturationOptions } from './results.js'
import { SteppedSim } from './sim-control.js'
import { WIRE, startSystem } from './systems.js'
import type { RunningSystem, SystemName } from './systems.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const STABLE_TRIES = 3, STABLE_BYTES = 128 * 1024

/** anonymous resident memory (heap, stacks, socket buffers of the process): RSS without the file-backed pages of
 *  code and libraries, which grow as new code paths run and are no connection's cost */
function rssAnonBytes(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
    return m ? Number(m[1]) * 1024 : 0
  } catch { return 0 }
}
const QUIET_RATE = 1

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
    // Four waves, each read after a full GC: idle unsubscribed twice, then idle subscribed (the clients' symbols, as
    // under load) twice. The second wave of each kind is the marginal cost of a connection, free of start-up garbage
    // and of the heap space the first wave made V8 reserve (a one-off: the young generation grows once).
    // a reading is taken once two in a row (each after a GC) agree: a server still settling after start-up (the
    // feed's opening, lazy allocations) otherwise shrinks or grows under the connections' figure
    const once = async (): Promise<number> => { await sleep(o.idleSettleSec * 1000); await sys!.gc(); return sys!.pids.reduce((s, p) => s + rssAnonBytes(p), 0) }
    const rss = async (): Promise<number> => {
      let prev = await once()
      for (let k = 0; k < STABLE_TRIES; k++) { const cur = await once(); if (Math.abs(cur - prev) <= STABLE_BYTES) return cur; prev = cur }
      return prev
    }
    const q = clients.length >> 2
    const waves = [clients.slice(0, q).map(() => []), clients.slice(q, 2 * q).map(() => []), clients.slice(2 * q, 3 * q), clients.slice(3 * q, 4 * q)]
    const at = [await rss()]
    const got: number[] = []
    for (const w of waves) {
      got.push((await load.connect(WIRE[name], sys, names, w, o.connectTimeoutMs)).connected)
      at.push(await rss())
    }
    const mib = (b: number): number => Math.round(b / 2 ** 20 * 10) / 10
    r.connected = got.reduce((s, n) => s + n, 0)
    r.rssMiB = at.map(mib)
    r.bytesPerConn = Math.round((at[2] - at[1]) / Math.max(1, got[1]))
    r.bytesPerConnSubscribed = Math.round((at[4] - at[3]) / Math.max(1, got[3]))
    r.firstWaveBytesPerConn = Math.round((at[1] - at[0]) / Math.max(1, got[0]))
    if (r.connected < 4 * q) { r.status = 'failed'; r.error = `accepted ${r.connected} of ${4 * q} connections` }
    else if (r.bytesPerConn <= 0 || r.bytesPerConnSubscribed <= 0) {
      // memory fell while connections were added: the process's own drift outweighed them, so no figure is given
      r.status = 'failed'; r.error = `RSS fell across a wave (${r.rssMiB.join(' → ')} MiB): noise larger than the connections' cost; use more --idle-conns`
    }
    o.log(`  idle ${name.padEnd(9)} ${r.connected} connections in 4 waves: anonymous RSS ${r.rssMiB.join(' → ')} MiB after GC; ` +
      `${r.bytesPerConn} B each unsubscribed, ${r.bytesPerConnSubscribed} B subscribed to ${o.symbolsPerSub} symbols (first wave ${r.firstWaveBytesPerConn} B)`)
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
