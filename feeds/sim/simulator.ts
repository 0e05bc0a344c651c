// Owns a running feed simulator: one SoupBinTCP server fed by the generator at a paced rate.
// Must never pace per message (one timer per 10 ms batch) or hold the event loop for more than a batch.
import { performance } from 'node:perf_hooks'
import { SoupServer } from '../soup-server.js'
import { FeedGenerator } from './generator.js'
import { simulatorSnapshotServer } from './snapshot.js'
import { loadUniverse } from './universe.js'
import type { UniverseRow } from './universe.js'

/** Plain data only, so the same object can be posted to a worker thread. */
export interface SimulatorOptions {
  host?: string
  /** 0 = an ephemeral port (see the returned port) */
  port?: number
  /** SoupBinTCP session id, up to 10 characters */
  sessionId?: string
  seed?: number
  /** the first N symbols (busiest first) of the universe */
  symbols?: number
  /** messages per second; 0 = as fast as possible, in bounded batches that yield to the event loop */
  rate?: number
  /** after this many seconds: System Event 'C', End of Session; 0 = run until stop() */
  durationSec?: number
  /** CSV path; default the bundled feeds/symbols/us-equities.csv */
  universePath?: string
  /** repeat the directory this often, for clients joining live; 0 = never */
  directoryEverySec?: number
  heartbeatIntervalMs?: number
  deadAfterMs?: number
  recoveryBytes?: number
  /** also serve GLIMPSE-style snapshots (native messages, then End of Snapshot) on this port; 0 = ephemeral; absent = none */
  glimpsePort?: number
}

export interface RunningSimulator {
  port: number
  /** the snapshot endpoint's port (SimulatorOptions.glimpsePort), or null when none was asked for */
  glimpsePort: number | null
  /** resolves when the session has ended (duration reached) or the simulator was stopped */
  readonly ended: Promise<void>
  readonly server: SoupServer
  readonly generator: FeedGenerator
  /**
   * Stops generating, ends the session (System Event 'C', End of Session), waits up to `graceMs` for
   * clients to read it and leave, then closes every socket. Idempotent.
   */
  stop(graceMs?: number): Promise<void>
  /**
   * Paces at `rate` messages per second from now on (0 = as fast as possible), counting afresh: an open-loop
   * offered load that a benchmark steps. Ignored once stopped.
   */
  setRate(rate: number): void
}

const TICK_MS = 10
/** at most this many timer ticks of backlog are made up after a stall; the rest is skipped, not burst */
const MAX_CATCH_UP_TICKS = 10
/** `rate: 0` batch: big enough to amortise the turn, small enough to keep clients and timers served */
const FLAT_OUT_BATCH = 8192

export async function startSimulator(opts: SimulatorOptions = {}, universe?: readonly UniverseRow[]): Promise<RunningSimulator> {
  const rows = universe ?? loadUniverse(opts.universePath)
  let rate = opts.rate ?? 100_000
  const nowUs = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000)
  const gen = new FeedGenerator({ universe: rows, symbols: opts.symbols ?? 500, seed: opts.seed ?? 1, startTimeUs: nowUs() })
  const server = new SoupServer({
    host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, sessionId: opts.sessionId ?? 'SIM0000001',
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1000, deadAfterMs: opts.deadAfterMs ?? 15_000,
    recoveryBytes: opts.recoveryBytes ?? 64 * 1024 * 1024,
  })
  const buf = gen.buf
  const append = (n: number): void => { for (let i = 0; i < n; i++) server.append(buf, 0, gen.next()) }

  // The opening (system event, directory, statuses, opening quotes) is in the store before anyone can
  // log in, so a client asking for sequence 1 always starts with a complete directory.
  append(1 + 3 * gen.symbolCount)
  const port = await server.listen()
  const glimpse = opts.glimpsePort === undefined ? null
    : simulatorSnapshotServer(gen, server, opts.host ?? '127.0.0.1', opts.glimpsePort, opts.sessionId ?? 'SIM0000001')
  const glimpsePort = glimpse === null ? null : await glimpse.listen()

  let timer: NodeJS.Timeout | null = null, immediate: NodeJS.Immediate | null = null, durationTimer: NodeJS.Timeout | null = null
  let stopped = false, endedResolve!: () => void
  const ended = new Promise<void>((resolve) => { endedResolve = resolve })
  let startMs = performance.now(), sent = 0, lastDirMs = startMs
  const dirEveryMs = (opts.directoryEverySec ?? 10) * 1000

  const refreshDirectory = (nowMs: number): void => {
    if (dirEveryMs > 0 && nowMs - lastDirMs >= dirEveryMs) { lastDirMs = nowMs; gen.scheduleDirectory() }
  }
  const onTick = (): void => {
    const now = performance.now()
    let due = Math.floor(((now - startMs) * rate) / 1000) - sent
    const cap = Math.ceil((rate * TICK_MS * MAX_CATCH_UP_TICKS) / 1000)
    if (due > cap) { startMs += ((due - cap) * 1000) / rate; due = cap } // skip the stall, do not burst
    if (due <= 0) return
    gen.setTimeUs(nowUs()) // one clock read per batch
    refreshDirectory(now)
    append(due); sent += due
  }
  const onFlatOut = (): void => {
    immediate = null
    if (stopped) return
    gen.setTimeUs(nowUs())
    refreshDirectory(performance.now())
    append(FLAT_OUT_BATCH)
    immediate = setImmediate(onFlatOut)
  }
  const halt = (): void => {
    if (timer) { clearInterval(timer); timer = null }
    if (immediate) { clearImmediate(immediate); immediate = null }
    if (durationTimer) { clearTimeout(durationTimer); durationTimer = null }
    stopped = true
  }
  const endSession = (): void => {
    if (stopped) return
    halt()
    gen.setTimeUs(nowUs())
    server.append(buf, 0, gen.endOfMessages())
    server.endSession()
    endedResolve()
  }

  const pace = (): void => {
    if (rate > 0) timer = setInterval(onTick, TICK_MS)
    else immediate = setImmediate(onFlatOut)
  }
  pace()
  if (opts.durationSec && opts.durationSec > 0) durationTimer = setTimeout(endSession, opts.durationSec * 1000)

  let stopping: Promise<void> | null = null
  return {
    port, glimpsePort, ended, server, generator: gen,
    stop(graceMs = 0): Promise<void> {
      if (!stopping) {
        endSession(); halt()
        stopping = drained(server, graceMs).then(() => Promise.all([server.close(), glimpse?.close()])).then(() => endedResolve())
      }
      return stopping
    },
    setRate(next: number): void {
      if (stopped) return
      if (timer) { clearInterval(timer); timer = null }
      if (immediate) { clearImmediate(immediate); immediate = null }
      rate = next; startMs = performance.now(); sent = 0
      pace()
    },
  }
}

/** Resolves once every client has disconnected (they leave after End of Session) or after `graceMs`. */
function drained(server: SoupServer, graceMs: number): Promise<void> {
  const deadline = performance.now() + graceMs
  return new Promise((resolve) => {
    const poll = (): void => {
      if (server.clientCount === 0 || performance.now() >= deadline) resolve()
      else setTimeout(poll, 20)
    }
    poll()
  })
}
