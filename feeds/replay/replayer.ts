// Owns serving a loaded capture as a SoupBinTCP session: one Sequenced Data packet per message, paced or flat out.
// Must never pace per message (one timer per due batch) nor hold the event loop for more than a bounded batch.
import { performance } from 'node:perf_hooks'
import { CaptureSnapshots } from '../glimpse/capture-snapshots.js'
import { GlimpseServer } from '../glimpse/glimpse-server.js'
import { SoupServer } from '../soup-server.js'
import { capturePass, loadCaptureFile } from './load-capture.js'
import type { CaptureFormat, LoadedCapture, ReplayProtocol } from './load-capture.js'

/** 'recorded' = the capture's own timing, 'fast' = as fast as clients read, a number N = N× the capture's timing */
export type ReplayPace = 'recorded' | 'fast' | number

export interface ReplayOptions {
  /** a capture file path (pcap, pcapng, .gz, BinaryFILE, tickcast capture) or an already loaded capture */
  capture: string | LoadedCapture
  host?: string
  /** 0 = an ephemeral port */
  port?: number
  pace?: ReplayPace
  protocol?: ReplayProtocol | 'auto'
  /** SoupBinTCP session id (≤ 10 characters) */
  sessionId?: string
  /** start over (sequence numbers keep counting) instead of ending the session */
  loop?: boolean
  /** serve only this pass (1-based) of a multi-session capture, as a session of its own; default every pass in turn */
  capturePass?: number
  /** hold the clock until the first client logs in (paced replays start with the client, not the process) */
  waitForClient?: boolean
  /** nothing is sent before this resolves (then waitForClient applies): lets a caller wire up consumers first */
  hold?: Promise<void>
  heartbeatIntervalMs?: number
  deadAfterMs?: number
  /** minimum recovery store; it is raised to hold the whole capture so a late or slow client misses nothing */
  recoveryBytes?: number
  /**
   * ITCH only: also serve a GLIMPSE 5.0 snapshot endpoint on this port (0 = any free port): the book of the messages
   * sent so far, then End of Snapshot with the next sequence. undefined = no GLIMPSE endpoint.
   */
  glimpsePort?: number
}

export interface RunningReplay {
  port: number
  protocol: ReplayProtocol
  format: CaptureFormat
  /** messages served per loop (the whole capture, or the one pass capturePass names) */
  messages: number
  /** the whole capture as read (every pass, whatever capturePass serves) */
  capture: LoadedCapture
  readonly server: SoupServer
  /** the GLIMPSE endpoint's port and server (null without glimpsePort) */
  glimpsePort: number | null
  readonly glimpse: GlimpseServer | null
  /** passes completed (loop) */
  readonly passes: number
  /** resolves once End of Session has been queued (every message appended), or on stop() */
  readonly done: Promise<void>
  /** Ends the session if still running, gives clients up to `graceMs` to read it and leave, closes every socket. */
  stop(graceMs?: number): Promise<void>
}

/** 'fast' flat-out batch: big enough to amortise a turn, small enough to keep clients and timers served */
const FAST_BATCH = 8192
/** paced: at most this many due messages per turn before yielding (a replay far behind catches up in steps) */
const MAX_DUE_PER_TURN = 65536
/** paced: the longest single sleep; long capture silences are slept in steps (stop() stays prompt) */
const MAX_SLEEP_MS = 1000
const WAIT_POLL_MS = 10

export function parsePace(s: string): ReplayPace | null {
  if (s === 'recorded' || s === 'fast') return s
  const m = /^(\d+(?:\.\d+)?)x$/.exec(s)
  if (!m) return null
  const n = Number(m[1])
  return n > 0 && Number.isFinite(n) ? n : null
}

export async function startReplay(opts: ReplayOptions): Promise<RunningReplay> {
  const loaded = typeof opts.capture === 'string' ? loadCaptureFile(opts.capture, opts.protocol ?? 'auto') : opts.capture
  const cap = opts.capturePass === undefined ? loaded : capturePass(loaded, opts.capturePass)
  const pace = opts.pace ?? 'fast', speed = pace === 'fast' ? 0 : pace === 'recorded' ? 1 : pace
  const loop = opts.loop ?? false
  let storeBytes = 0
  for (let i = 0; i < cap.count; i++) storeBytes += 3 + cap.len[i]
  // Whole capture (two passes when looping) plus block slack: nobody falls out of the store.
  const recoveryBytes = Math.max(opts.recoveryBytes ?? 64 * 1024 * 1024, Math.ceil(storeBytes * (loop ? 2.5 : 1.25)) + (2 << 20))
  const server = new SoupServer({
    host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, sessionId: opts.sessionId ?? 'REPLAY',
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1000, deadAfterMs: opts.deadAfterMs ?? 15_000, recoveryBytes,
  })
  const port = await server.listen()
  const { buf, off, len, tsUs, count } = cap
  let i = 0, passes = 0, stopped = false, ended = false
  let glimpse: GlimpseServer | null = null, glimpsePort: number | null = null
  if (opts.glimpsePort !== undefined) {
    if (cap.protocol !== 'itch') { await server.close(); throw new Error(`GLIMPSE serves ITCH books; this capture is ${cap.protocol}`) }
    // i (next capture message) and server.nextSeq move together inside one synchronous pump: a snapshot taken between
    // two turns pairs the book with exactly the sequence that follows it.
    const snaps = new CaptureSnapshots(cap)
    glimpse = new GlimpseServer(() => snaps.at(passes, i, server.nextSeq), { host: opts.host ?? '127.0.0.1', port: opts.glimpsePort, sessionId: opts.sessionId ?? 'REPLAY' })
    glimpsePort = await glimpse.listen()
  }

  let timer: NodeJS.Timeout | null = null, immediate: NodeJS.Immediate | null = null
  let wallStartMs = 0, t0Us = 0
  let resolveDone!: () => void
  const done = new Promise<void>((r) => { resolveDone = r })

  const firstTime = (): number => { for (let k = 0; k < count; k++) if (!Number.isNaN(tsUs[k])) return tsUs[k]; return 0 }
  const startPass = (): void => { i = 0; wallStartMs = performance.now(); t0Us = firstTime() }
  const endPass = (): boolean => {
    passes++
    if (loop && count > 0) { startPass(); return false }
    ended = true
    server.endSession()
    resolveDone()
    return true
  }

  const pumpFast = (): void => {
    immediate = null
    if (stopped) return
    const end = Math.min(count, i + FAST_BATCH)
    for (; i < end; i++) server.append(buf, off[i], len[i])
    if (i >= count && endPass()) return
    immediate = setImmediate(pumpFast)
  }

  const pumpPaced = (): void => {
    timer = null; immediate = null
    if (stopped) return
    const dueUs = t0Us + (performance.now() - wallStartMs) * 1000 * speed
    let n = 0
    for (; i < count && n < MAX_DUE_PER_TURN && !(tsUs[i] > dueUs); i++, n++) server.append(buf, off[i], len[i]) // NaN time: due now
    if (i >= count) {
      if (endPass()) return
      immediate = setImmediate(pumpPaced)
      return
    }
    if (n === MAX_DUE_PER_TURN) { immediate = setImmediate(pumpPaced); return }
    const sleepMs = (tsUs[i] - dueUs) / 1000 / speed
    timer = setTimeout(pumpPaced, Math.max(1, Math.min(MAX_SLEEP_MS, sleepMs)))
  }

  const begin = (): void => {
    if (stopped) return
    startPass()
    if (count === 0) { endPass(); return }
    if (speed === 0) pumpFast(); else pumpPaced()
  }
  const waitClient = (): void => {
    timer = null
    if (stopped) return
    if (server.loggedInCount > 0) begin()
    else timer = setTimeout(waitClient, WAIT_POLL_MS)
  }
  const go = (): void => { if (opts.waitForClient) waitClient(); else begin() }
  if (opts.hold) void opts.hold.then(go); else go()

  let stopping: Promise<void> | null = null
  const stop = (graceMs = 0): Promise<void> => {
    if (stopping) return stopping
    stopped = true
    if (timer) clearTimeout(timer)
    if (immediate) clearImmediate(immediate)
    if (!ended) { ended = true; server.endSession() }
    resolveDone()
    stopping = (async () => {
      const deadline = performance.now() + graceMs
      while (server.clientCount > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      await Promise.all([server.close(), glimpse?.close()])
    })()
    return stopping
  }

  return {
    port, protocol: cap.protocol, format: cap.format, messages: count, capture: loaded, server, glimpse, glimpsePort, done, stop,
    get passes() { return passes },
  }
}
