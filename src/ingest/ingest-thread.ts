// Owns the ingest thread from the main thread: starting it, its feeds' counters, stopping it.
// Must never send events by message (they go through the shared ring) nor let a slow main thread hold the feed back.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { LatestValues } from '../cache/latest-values.js'
import type { Config, FeedConfig } from '../config.js'
import { BootError } from '../errors.js'
import type { FeedTiming } from '../feed/feed.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import type { FeedClaim } from '../normalize/symbol-ownership.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import type { TickRing } from '../ring/ring-buffer.js'
import type { FromIngest, IngestWorkerData, ToIngest } from './ingest-protocol.js'
import { RemoteFeed } from './remote-feed.js'

/** Worker threads load JavaScript only: the ingest thread runs when tickcast runs from dist/ (`npm start`). */
const WORKER_URL = new URL('./ingest-worker.js', import.meta.url)
/** Feed counters reach /metrics and /readyz this often. */
const STATS_INTERVAL_MS = 50
/** Reading the shared ring in place needs room between the writer and the slots a reader is on (dispatcher.ts). */
export const INGEST_THREAD_MIN_RING = 16384
/**
 * The reader's tear checks (in-place reads, the latest-value seqlock) rely on x86-64 keeping plain loads and stores in
 * order around an Atomics access; JavaScript has no standalone fence for weaker memory models (as --workers).
 */
export const INGEST_THREAD_ARCHES: readonly string[] = ['x64']

/** Whether ingest runs on its own thread (--ingest-thread auto|on|off); `on` where it cannot is a boot error. */
export function ingestOnThread(c: Pick<Config, 'ingestThread' | 'source' | 'bus' | 'ringCapacity'>, arch: string = process.arch,
  available: boolean = import.meta.url.endsWith('.js') && existsSync(fileURLToPath(WORKER_URL))): boolean {
  if (c.ingestThread === 'off') return false
  const why = c.source.length > 0 ? 'an edge (--source) has no feed to ingest'
    : c.bus.length > 0 ? '--bus reads the ring on the main thread'
      : !INGEST_THREAD_ARCHES.includes(arch) ? `it needs an x86-64 CPU (this one is ${arch})`
        : !available ? 'the ingest worker runs from the compiled dist/ only'
          : c.ringCapacity < INGEST_THREAD_MIN_RING ? `--ring-capacity must be at least ${INGEST_THREAD_MIN_RING}` : ''
  if (why === '') return true
  if (c.ingestThread === 'on') throw new BootError('INGEST_THREAD', `--ingest-thread on: ${why}`)
  return false
}

export interface IngestThreadOptions {
  ring: TickRing
  symbols: SharedSymbols
  seqs: SymbolSequences
  latest: LatestValues
  feeds: readonly FeedConfig[]
  claims: readonly FeedClaim[]
  timing: FeedTiming
  logLevel: string
  /** how long stop() waits for the feeds to log out before the thread is terminated */
  stopDeadlineMs?: number
}

export class IngestThread {
  readonly feeds: RemoteFeed[]
  private readonly exited: Promise<void>
  private readonly feedStops = new Map<number, () => void>()
  private stopping: Promise<void> | null = null

  private constructor(private readonly worker: Worker, private readonly opts: IngestThreadOptions, private readonly log: Logger) {
    this.feeds = opts.feeds.map((fc, k) => new RemoteFeed(fc, () => this.stopFeed(k)))
    this.exited = new Promise((r) => worker.once('exit', () => r()))
    worker.on('message', (m: FromIngest) => this.onMessage(m))
    worker.on('error', (e) => log.error({ err: e }, 'ingest thread failed: feeds are down'))
    void this.exited.then(() => {
      for (const f of this.feeds) f.lost()
      if (this.stopping === null) log.error('ingest thread exited: feeds are down (/readyz fails)')
    })
  }

  /** Starts the thread and its feeds; resolves once every feed has started (or rejects with the thread's boot error). */
  static async start(opts: IngestThreadOptions, log: Logger): Promise<IngestThread> {
    const data: IngestWorkerData = {
      ring: opts.ring.handle(), symbols: opts.symbols.handle(), seqs: opts.seqs.handle(), latest: opts.latest.handle(),
      feeds: opts.feeds, claims: opts.claims, timing: opts.timing, logLevel: opts.logLevel,
      timeOrigin: performance.timeOrigin, statsIntervalMs: STATS_INTERVAL_MS,
    }
    const worker = new Worker(WORKER_URL, { workerData: data })
    const t = new IngestThread(worker, opts, log)
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromIngest): void => {
        if (m.t === 'started') { worker.off('message', onMsg); resolve() }
        else if (m.t === 'failed') { worker.off('message', onMsg); reject(new BootError(m.code, m.message)) }
      }
      worker.on('message', onMsg)
      worker.once('error', reject)
      void t.exited.then(() => reject(new BootError('INGEST', 'the ingest thread exited before its feeds started')))
    }).catch(async (e: unknown) => { await worker.terminate(); throw e })
    return t
  }

  /** Feeds log out, the thread exits (terminated after the deadline). Idempotent. */
  stop(): Promise<void> {
    return this.stopping ??= (async () => {
      this.worker.postMessage({ t: 'stop' } satisfies ToIngest)
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(true), this.opts.stopDeadlineMs ?? 1500) })
      if (await Promise.race([this.exited.then(() => false), late])) {
        this.log.warn('ingest thread did not stop in time: terminated')
        await this.worker.terminate()
      }
      clearTimeout(timer)
    })()
  }

  private stopFeed(index: number): Promise<void> {
    if (this.stopping !== null) return this.stopping
    return new Promise((resolve) => {
      this.feedStops.set(index, resolve)
      this.worker.postMessage({ t: 'stopFeed', index } satisfies ToIngest)
      void this.exited.then(resolve)
    })
  }

  private onMessage(m: FromIngest): void {
    switch (m.t) {
      case 'stats': for (let k = 0; k < m.feeds.length && k < this.feeds.length; k++) this.feeds[k].update(m.feeds[k]); break
      case 'feedStopped': { const r = this.feedStops.get(m.index); this.feedStops.delete(m.index); r?.(); break }
      default: break
    }
  }
}
