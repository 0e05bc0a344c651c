// Owns one configured feed: its session line(s) (one, or A/B through an arbiter), payload decoder, optional
// recorder, normalizer, GLIMPSE recovery (ITCH, native) and counters, and their lifecycle; turns session events (gap, down,
// up) into ring markers.
// Must never publish to clients: it ends at the ring, where gaps and outages travel in order with the data.
import type { Logger } from 'pino'
import type { FeedConfig } from '../config.js'
import { PARTIAL_GAP } from '../model/book-state.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import { Normalizer } from '../normalize/normalizer.js'
import type { FeedClaim } from '../normalize/symbol-ownership.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import type { PayloadDecoder, TickSink } from '../normalize/tick-sink.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { AbSession } from './ab-session.js'
import { ItchDecoder } from './decoders/itch.js'
import { NativeDecoder } from './decoders/native.js'
import { TopsDecoder } from './decoders/tops.js'
import { FeedIngest } from './feed-ingest.js'
import { FeedStats } from './feed-stats.js'
import { GlimpseRecovery } from './glimpse-recovery.js'
import type { BookSync, LiveSession } from './glimpse-recovery.js'
import { CaptureRecorder } from './recorder.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import { SESSION_DISCONNECTED, SESSION_GAP } from './session-sink.js'
import { RetryWarnings } from './retry-warnings.js'
import { SoupClient } from './soup-client.js'
import type { SoupClientOptions } from './soup-client.js'

export interface FeedTiming {
  heartbeatIntervalMs: number
  deadAfterMs: number
  /**
   * nothing heard (data or heartbeats) this long, connected or not: the feed's symbols are marked stale (feed_down)
   * until it is heard again. A reconnect that resumes sooner is not an outage clients need to hear about: SoupBinTCP
   * replays what was missed, and a loss shows up as a gap.
   */
  staleAfterMs: number
}

/**
 * Largest sequenced message per payload protocol: ITCH 5.0's longest is 50 bytes ('I'); TOPS 1.6's 80 ('A'), and the
 * spec lets messages grow, so 255; native v1 readers skip new types of any length (feeds/PROTOCOL.md).
 */
const MAX_MESSAGE_BYTES: Record<FeedConfig['protocol'], number> = { itch: 50, tops: 255, native: 65534 }

/** How often a feed's silence is checked against staleAfterMs. */
const FRESHNESS_CHECK_MS = 250

export interface DecoderOptions {
  /** ITCH: trading day 'YYYY-MM-DD' (America/New_York) its timestamps count from; default today in New York */
  sessionDate?: string
  /** ITCH: live orders to size the book for (no rehash below this) */
  expectedOrders?: number
}

/** Optional per-feed extras; `record` / `sessionDate` are also read from the FeedConfig when it has them. */
export interface FeedOptions extends DecoderOptions {
  /** append every received sequenced payload to this file (tickcast capture v1, feeds/README.md) */
  record?: string
  /** this feed's place among the configured feeds (1-based) and every feed's claim: symbol ownership (absent: none) */
  ownership?: { index: number; claims: readonly FeedClaim[] }
}

export function decoderFor(protocol: FeedConfig['protocol'], sink: TickSink, stats: FeedStats, opts: DecoderOptions = {}): PayloadDecoder {
  switch (protocol) {
    case 'native': return new NativeDecoder(sink, stats)
    case 'tops': return new TopsDecoder(sink, stats)
    case 'itch': return new ItchDecoder(sink, stats, { sessionDate: opts.sessionDate, expectedOrders: opts.expectedOrders ?? 1 << 20 })
  }
}

export class Feed {
  readonly stats: FeedStats
  readonly recorder: CaptureRecorder | null
  /** the live session; with GLIMPSE, the recovery owns it (a new one after every snapshot) */
  private readonly session: SoupClient | AbSession | null
  private readonly recovery: GlimpseRecovery | null
  private readonly normalizer: Normalizer
  /** the payload decoder; an ItchDecoder owns the order books and their state (markAllPartial, clearBooks, markAllSynced) */
  readonly decoder: PayloadDecoder
  private freshnessTimer: NodeJS.Timeout | null = null
  /** when checkFreshness last ran (performance.now()): a check much later than its period means the loop stalled */
  private lastCheckMs = 0
  private readonly retryWarnings: RetryWarnings

  constructor(
    readonly config: FeedConfig,
    ring: TickRing, symbols: SharedSymbols, seqs: SymbolSequences,
    private readonly timing: FeedTiming,
    private readonly log: Logger,
    opts: FeedOptions = {},
  ) {
    const fromConfig = config as FeedConfig & FeedOptions
    const record = opts.record ?? fromConfig.record, sessionDate = opts.sessionDate ?? fromConfig.sessionDate
    this.stats = new FeedStats(config.name)
    const own = opts.ownership
    const normalizer = new Normalizer(ring, symbols, seqs, {
      quotesAreFullState: config.protocol !== 'itch',
      ownership: own ? { index: own.index, claims: own.claims, quota: config.quota, refusals: this.stats.symbolRefusals } : undefined,
    })
    this.normalizer = normalizer
    const decoder = decoderFor(config.protocol, normalizer, this.stats, { sessionDate, expectedOrders: opts.expectedOrders })
    this.decoder = decoder
    const ingest = new FeedIngest(decoder, normalizer)
    this.recorder = record ? new CaptureRecorder(record, config.protocol, ingest, { session: config.session }) : null
    const sink: SessionSink = this.recorder ?? ingest
    const onEvent = (ev: SessionEvent): void => {
      this.log.info({ feed: ev.feed, event: ev.kind, fromSeq: ev.fromSeq, count: ev.count, reason: ev.reason }, 'feed session event')
      if (ev.kind === SESSION_DISCONNECTED && ev.reason?.startsWith('bad frame') === true) {
        this.log.warn({ feed: ev.feed, reason: ev.reason, badFrames: this.stats.badFrames, streak: this.stats.badFrameStreak },
          'feed sent an implausible frame: reconnecting at last + 1 (backing off while it keeps doing so)')
      }
      if (ev.kind === SESSION_GAP) {
        this.log.warn({ feed: ev.feed, fromSeq: ev.fromSeq, missed: ev.count }, 'feed gap: every symbol of the feed is marked stale')
        normalizer.feedGap()
        if (decoder instanceof ItchDecoder) decoder.markAllPartial(PARTIAL_GAP) // orders may be missing from every book
        this.recovery?.onGap() // GLIMPSE: a snapshot makes them synced again
      }
    }
    const lineOpts = config.lines.map((line): SoupClientOptions => ({
      name: config.name, host: line.host, port: line.port, username: config.username, password: config.password,
      session: config.session, startSeq: config.startSeq, maxMessageBytes: MAX_MESSAGE_BYTES[config.protocol],
      maxFrameBytes: Math.min(65535, Math.max(1024, MAX_MESSAGE_BYTES[config.protocol] + 1)), heartbeatIntervalMs: timing.heartbeatIntervalMs, deadAfterMs: timing.deadAfterMs,
    }))
    const live = (startSeq: number): SoupClient | AbSession => lineOpts.length === 2
      ? new AbSession(config.name, [{ ...lineOpts[0], startSeq }, { ...lineOpts[1], startSeq }], sink, this.stats, onEvent)
      : new SoupClient({ ...lineOpts[0], startSeq }, sink, this.stats, onEvent)
    const g = config.glimpse
    if (g && config.protocol === 'tops') throw new Error(`feed ${config.name}: glimpse= needs protocol itch or native`)
    if (g) {
      // ITCH: the decoder's books are cleared and rebuilt. Native: quotes are whole tops of book, so the snapshot's
      // last quotes replace what a gap may have left behind; nothing to clear, and once applied the gap is repaired.
      const books: BookSync = decoder instanceof ItchDecoder ? decoder : { clearBooks: () => {}, markAllSynced: () => normalizer.snapshotApplied() }
      // Snapshot messages bypass the recorder: they carry no real-time sequence (a recording stays a session's stream).
      this.recovery = new GlimpseRecovery({ host: g.host, port: g.port, username: g.username ?? config.username, password: g.password ?? config.password,
        session: config.session, heartbeatIntervalMs: timing.heartbeatIntervalMs, deadAfterMs: timing.deadAfterMs,
        maxMessageBytes: config.protocol === 'itch' ? undefined : MAX_MESSAGE_BYTES[config.protocol] },
      ingest, books, (seq): LiveSession => live(seq), this.stats, log)
      this.session = null
    } else {
      this.recovery = null
      this.session = live(config.startSeq)
    }
    // with GLIMPSE the recovery makes a new live session after every snapshot: warn about the live lines only without it
    this.retryWarnings = new RetryWarnings(config.name, this.session === null ? [] : this.session instanceof AbSession ? this.session.clients : [this.session], log)
    if (record) log.info({ feed: config.name, record }, 'recording feed session')
  }

  start(): void {
    if (this.recovery) this.recovery.start(); else this.session?.start()
    this.lastCheckMs = performance.now()
    this.freshnessTimer = setInterval(() => this.checkFreshness(), FRESHNESS_CHECK_MS)
    this.freshnessTimer.unref()
  }

  async stop(): Promise<void> {
    if (this.freshnessTimer !== null) { clearInterval(this.freshnessTimer); this.freshnessTimer = null }
    if (this.recovery) await this.recovery.stop(); else await this.session?.stop()
    if (this.recorder) {
      await this.recorder.close()
      this.log.info({ feed: this.config.name, file: this.recorder.path, ...this.recorder.stats }, 'feed recording closed')
    }
  }

  /** Logged in and heard from within `staleAfterMs`. */
  isFresh(nowMs: number, staleAfterMs: number): boolean {
    return this.stats.loggedIn === 1 && nowMs - this.stats.lastReceiveMs <= staleAfterMs
  }

  /**
   * Silent past staleAfterMs → the feed's symbols get stale (feed_down) markers; heard again (a heartbeat will do; an
   * event marks them itself, in order) → fresh ones. Runs on a timer: silence has no event. Never per message.
   */
  private checkFreshness(deferred = false): void {
    if (this.freshnessTimer === null) return // stopped (a deferred check may come after)
    const now = performance.now(), late = !deferred && now - this.lastCheckMs > 2 * FRESHNESS_CHECK_MS
    this.lastCheckMs = now
    this.retryWarnings.check(now)
    const silent = !(now - this.stats.lastReceiveMs <= this.timing.staleAfterMs) // NaN: never heard
    if (silent === this.normalizer.isDown) return
    if (!silent) { this.normalizer.feedUp(); this.log.info({ feed: this.config.name }, 'feed heard again: its symbols are fresh unless a gap stands'); return }
    // This timer ran late: the event loop was blocked (GC, a long task), and after a stall timers run before the poll
    // phase reads what arrived meanwhile. Judge once that is read (setImmediate runs after the poll phase), not before:
    // a stall of ours is not the feed's silence (freshness.test.ts: 3 stalls of 700 ms made 30 false feed_down markers).
    if (late) { setImmediate(() => this.checkFreshness(true)); return }
    this.log.warn({ feed: this.config.name, loggedIn: this.stats.loggedIn === 1, staleAfterMs: this.timing.staleAfterMs }, 'feed silent: its symbols are marked stale (feed_down)')
    this.normalizer.feedDown()
  }
}
