// Owns bringing an ITCH feed's books back in sync from a GLIMPSE 5.0 snapshot, at start and after every gap: the live
// session is closed, the books are cleared and re-seeded from the snapshot, and a new live session logs in at the
// snapshot's sequence. Must never decode ITCH itself (the feed's own decoder applies the snapshot) nor run two at once.
import type { Logger } from 'pino'
import type { FeedStats } from './feed-stats.js'
import { SnapshotFailed, takeSnapshot } from './glimpse-client.js'
import type { SnapshotOptions } from './glimpse-client.js'
import type { SessionSink } from './session-sink.js'

/** A live feed session (SoupClient or AbSession): started once, stopped once. */
export interface LiveSession {
  start(): void
  stop(): Promise<void>
}

/** What recovery asks of the decoder's books. */
export interface BookSync {
  /** every book emptied (they are about to be rebuilt from the snapshot) */
  clearBooks(): void
  /** every book is complete as of the snapshot: the partial flag comes off */
  markAllSynced(): void
}

const BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 5000

/**
 * No loss, no duplicate: the old live session is stopped (synchronously: no message after the gap reaches the
 * decoder) before the snapshot is taken, and the snapshot's End of Snapshot names the first real-time sequence it
 * does not reflect, which is exactly where the new live session logs in. Messages sent while the snapshot was
 * taken are in the server's recovery store and arrive after it, in order.
 */
export class GlimpseRecovery {
  private live: LiveSession | null = null
  private running: Promise<void> | null = null
  private stopped = false
  private abort: AbortController | null = null
  private pendingGap = false
  /** ends a backoff sleep early (stop) */
  private wake: (() => void) | null = null

  constructor(
    private readonly snapshotOpts: SnapshotOptions,
    /** the feed's ingest: snapshot messages go through the same decoding as live ones */
    private readonly ingest: SessionSink,
    private readonly books: BookSync,
    private readonly makeLive: (startSeq: number) => LiveSession,
    private readonly stats: FeedStats,
    private readonly log: Logger,
  ) {}

  /** true while a snapshot is being taken (the feed has no live session then) */
  get recovering(): boolean { return this.running !== null }

  start(): void { this.recover('start') }

  /** A gap on the live session: its books are partial until the next snapshot is applied. */
  onGap(): void {
    if (this.running) { this.pendingGap = true; return } // the live session of a recovery in flight: recover again after
    this.recover('gap')
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.abort?.abort()
    this.wake?.()
    const live = this.live
    this.live = null
    await Promise.all([live?.stop(), this.running])
  }

  private recover(why: string): void {
    if (this.stopped) return
    const live = this.live
    this.live = null
    const stopping = live ? live.stop() : Promise.resolve() // stop() is synchronous for what matters: no more messages
    this.running = this.run(why, stopping).finally(() => {
      this.running = null
      if (this.pendingGap) { this.pendingGap = false; this.recover('gap during recovery') }
    })
  }

  private async run(why: string, stopping: Promise<void>): Promise<void> {
    await stopping
    const o = this.snapshotOpts, name = this.stats.name
    for (let attempt = 0; !this.stopped; attempt++) {
      this.abort = new AbortController()
      this.books.clearBooks()
      try {
        const r = await takeSnapshot(o, this.ingest, this.abort.signal)
        if (this.stopped) return
        this.books.markAllSynced()
        this.stats.snapshots++; this.stats.snapshotMessages += r.messages
        this.log.info({ feed: name, why, messages: r.messages, resumeSeq: r.nextSeq }, 'GLIMPSE snapshot applied: books synced, live session resumes at its sequence')
        const live = this.makeLive(r.nextSeq)
        this.live = live
        live.start()
        return
      } catch (e) {
        if (this.stopped) return
        this.stats.snapshotFailures++
        const reason = e instanceof SnapshotFailed ? e.reason : String(e)
        const waitMs = Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10))
        this.log.warn({ feed: name, why, reason, attempt: attempt + 1, retryInMs: Math.round(waitMs), glimpse: `${o.host}:${o.port}` }, 'GLIMPSE snapshot failed: books stay partial, retrying')
        await new Promise<void>((r) => {
          const t = setTimeout(r, waitMs)
          this.wake = () => { clearTimeout(t); r() }
        })
        this.wake = null
      } finally {
        this.abort = null
      }
    }
  }
}
