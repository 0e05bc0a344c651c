// Owns the fan-out worker threads from the main thread: start, readiness, summed stats, crash handling, ordered stop.
// Must never send events by message (symbols, gaps and ticks all go through the shared ring) or let a worker exit with
// sockets open.
import { Worker } from 'node:worker_threads'
import { bootError } from '../errors.js'
import type { ReadyState } from '../http/routes.js'
import type { LatestValues } from '../cache/latest-values.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import type { TickRing } from '../ring/ring-buffer.js'
import type { DispatchStats } from './dispatcher.js'
import type { DispatchCounters, FanoutWorkerData, FromWorker, ToWorker } from './fanout-protocol.js'
import type { WsStats } from './ws-stats.js'
import type { WsLog } from './ws-server.js'

export interface FanoutWorkersOptions {
  count: number
  ring: TickRing
  symbols: SharedSymbols
  seqs: SymbolSequences
  /** ingest on its own thread: lapped workers conflate from the writer's latest values (null: stale-lapped markers) */
  latest?: LatestValues | null
  ws: FanoutWorkerData['ws']
  pageRoutes: FanoutWorkerData['pageRoutes']
  logLevel: string
  /** --dispatch-interval-ms; absent = 0 */
  dispatchIntervalMs?: number
  /** --dispatch-max-busy-pct; absent = 100 */
  dispatchMaxBusyPct?: number
  ready: () => ReadyState
  /** how long stop() waits for a worker to close its sockets before terminating it */
  stopDeadlineMs?: number
}

/** How often readiness is pushed to workers (their /readyz answers from it). */
const READY_PUSH_MS = 250
/** A scrape waits at most this long for fresh worker counters, then uses the last ones. */
const STATS_WAIT_MS = 250

interface Slot {
  worker: Worker; last: Extract<FromWorker, { t: 'stats' }> | null; statsWaiter: (() => void) | null; exited: Promise<void>
  descriptor: Promise<number>; attached: number | null
}

/** The parent app (the main thread's WsServer): its listen socket accepts, and hands each connection to a child. */
export interface ParentApp { addChild(descriptor: number): void; removeChild(descriptor: number): void }

/**
 * The worker entry is the compiled fanout-worker.js beside this file: worker threads load JavaScript only, so the
 * workers run from dist/ (`npm start`, and the tests that start them import the server from dist/ too).
 */
const WORKER_URL = new URL('./fanout-worker.js', import.meta.url)

/**
 * The ring mirror's tear check (ring-mirror.ts) relies on x86-64's ordering of plain loads before a later Atomics.load;
 * JavaScript has no standalone load fence to make it hold on weaker memory models (arm64), so workers are refused there.
 */
export const WORKER_ARCHES: readonly string[] = ['x64']

export class FanoutWorkers {
  private readonly slots: Slot[] = []
  private readyTimer: NodeJS.Timeout | null = null
  private lastReady = ''
  private stopping: Promise<void> | null = null
  private parent: ParentApp | null = null

  constructor(private readonly opts: FanoutWorkersOptions, private readonly log: WsLog, arch: string = process.arch) {
    if (!WORKER_ARCHES.includes(arch)) {
      throw bootError('WORKERS_ARCH', `--workers needs an x86-64 CPU (this one is ${arch}): run with --workers 0`)
    }
    for (let index = 0; index < opts.count; index++) {
      const data: FanoutWorkerData = {
        index, ring: opts.ring.handle(), symbols: opts.symbols.handle(), seqs: opts.seqs.handle(), latest: opts.latest?.handle() ?? null, ws: opts.ws, pageRoutes: opts.pageRoutes, logLevel: opts.logLevel,
        dispatchIntervalMs: opts.dispatchIntervalMs ?? 0, dispatchMaxBusyPct: opts.dispatchMaxBusyPct ?? 100,
      }
      const worker = new Worker(WORKER_URL, { workerData: data })
      const exited = new Promise<void>((r) => worker.once('exit', () => r()))
      const descriptor = new Promise<number>((resolve, reject) => {
        const onMsg = (m: FromWorker): void => { if (m.t === 'descriptor') { worker.off('message', onMsg); resolve(m.d) } }
        worker.on('message', onMsg)
        void exited.then(() => reject(new Error(`fan-out worker ${index} exited before it was ready`)))
        worker.once('error', reject)
      })
      descriptor.catch(() => {}) // observed by attach(); a worker that dies later is only logged
      const slot: Slot = { worker, last: null, statsWaiter: null, exited, descriptor, attached: null }
      worker.on('message', (m: FromWorker) => this.onMessage(slot, m))
      worker.on('error', (e) => this.log.warn({ worker: index, err: e.message }, 'fan-out worker failed'))
      // A worker that dies outside stop() must not be handed new connections: they would never be served.
      void exited.then(() => { if (this.stopping === null) this.detach(slot, index) })
      this.slots.push(slot)
    }
    this.readyTimer = setInterval(() => this.pushReady(), READY_PUSH_MS)
    this.readyTimer.unref()
  }

  get count(): number { return this.slots.length }

  /**
   * Makes every worker a child app of `parent` (call before parent listens): the parent's listen socket accepts and
   * hands connections to the workers round-robin, so the main thread serves none. Why not SO_REUSEPORT listeners per
   * thread: this uWS build cannot re-bind a port first bound as port 0 (measured), and tests and benches use port 0.
   */
  async attach(parent: ParentApp): Promise<void> {
    this.parent = parent
    for (const slot of this.slots) { const d = await slot.descriptor; parent.addChild(d); slot.attached = d }
    this.pushReady()
  }

  /** Open connections per worker as of the last collect() (tests check the spread; -1 = no report yet). */
  connectionsPerWorker(): number[] { return this.slots.map((s) => (s.last ? (s.last.ws.connections as number) : -1)) }

  /** Workers still serving (not crashed, not stopped). */
  get alive(): number { return this.slots.filter((s) => s.attached !== null).length }

  private detach(slot: Slot, index: number): void {
    if (slot.attached === null || this.parent === null) return
    this.parent.removeChild(slot.attached)
    slot.attached = null
    this.log.warn({ worker: index, alive: this.alive }, 'fan-out worker exited: no new connections go to it')
  }

  /** Asks every worker for its counters (bounded wait), then sums them with the main thread's into `ws`/`dispatch`. */
  async collect(mainWs: WsStats, mainDispatch: DispatchStats, ws: WsStats, dispatch: DispatchStats & { readSeq: number }): Promise<void> {
    if (this.stopping === null) {
      await Promise.all(this.slots.map((slot) => new Promise<void>((resolve) => {
        const t = setTimeout(() => { slot.statsWaiter = null; resolve() }, STATS_WAIT_MS)
        slot.statsWaiter = () => { clearTimeout(t); resolve() }
        slot.worker.postMessage({ t: 'stats' } satisfies ToWorker)
      })))
    }
    sumInto(ws, dispatch, mainWs, mainDispatch, this.slots.map((s) => s.last).filter((l) => l !== null))
  }

  /** Workers close every socket (clients get 1001), then exit; one that misses the deadline is terminated. */
  stop(): Promise<void> {
    return this.stopping ??= (async () => {
      if (this.readyTimer) { clearInterval(this.readyTimer); this.readyTimer = null }
      const deadline = this.opts.stopDeadlineMs ?? 1500
      // no new connection may be handed to an app that is about to close (the caller closed the listen socket first)
      for (const slot of this.slots) if (slot.attached !== null && this.parent !== null) { this.parent.removeChild(slot.attached); slot.attached = null }
      await Promise.all(this.slots.map(async (slot) => {
        slot.worker.postMessage({ t: 'stop' } satisfies ToWorker)
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(true), deadline) })
        if (await Promise.race([slot.exited.then(() => false), late])) {
          this.log.warn({ deadlineMs: deadline }, 'fan-out worker did not stop in time: terminated')
          await slot.worker.terminate()
        }
        clearTimeout(timer)
      }))
    })()
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.t === 'stats') { slot.last = m; const w = slot.statsWaiter; slot.statsWaiter = null; if (w) w() }
  }

  private pushReady(): void {
    const state = this.opts.ready(), key = JSON.stringify(state)
    if (key === this.lastReady) return
    this.lastReady = key
    this.send({ t: 'ready', state })
  }

  private send(m: ToWorker): void { for (const s of this.slots) s.worker.postMessage(m) }
}

type NumRec = Record<string, number>

/** ws/dispatch := main + every worker; readSeq := the slowest consumer's position (the catalogue's lag gauges). */
export function sumInto(ws: WsStats, dispatch: DispatchStats & { readSeq: number }, mainWs: WsStats, mainD: DispatchStats,
  workers: ReadonlyArray<{ ws: Record<string, unknown>; dispatch: DispatchCounters }>): void {
  const out = ws as unknown as Record<string, number | NumRec>
  for (const [k, v] of Object.entries(mainWs as unknown as Record<string, number | NumRec>)) {
    if (typeof v === 'number') out[k] = v + workers.reduce((s, w) => s + (w.ws[k] as number), 0)
    else for (const kk of Object.keys(v)) (out[k] as NumRec)[kk] = v[kk] + workers.reduce((s, w) => s + (w.ws[k] as NumRec)[kk], 0)
  }
  const keys = ['batches', 'events', 'lapped', 'laps', 'lappedSymbols', 'conflations', 'conflatedTrades', 'frames', 'frameBytes'] as const
  for (const k of keys) dispatch[k] = mainD[k] + workers.reduce((s, w) => s + w.dispatch[k], 0)
  const h = dispatch.ageAtPublishSec, mh = mainD.ageAtPublishSec
  h.counts.set(mh.counts); h.sum = mh.sum; h.count = mh.count
  for (const w of workers) {
    for (let k = 0; k < h.counts.length; k++) h.counts[k] += w.dispatch.ageCounts[k]
    h.sum += w.dispatch.ageSum; h.count += w.dispatch.ageCount
  }
  let slowest = -1 + mainD.events + mainD.lapped
  for (const w of workers) slowest = Math.min(slowest, -1 + w.dispatch.events + w.dispatch.lapped)
  dispatch.readSeq = slowest
}
