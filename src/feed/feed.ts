// Owns one configured feed: its session line(s) (one, or A/B through an arbiter), payload decoder, optional
// recorder, normalizer and counters, and their lifecycle; turns session events (gap, down, up) into ring markers.
// Must never publish to clients: it ends at the ring, where gaps and outages travel in order with the data.
import type { Logger } from 'pino'
import type { FeedConfig } from '../config.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import { Normalizer } from '../normalize/normalizer.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import type { PayloadDecoder, TickSink } from '../normalize/tick-sink.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { AbSession } from './ab-session.js'
import { ItchDecoder } from './decoders/itch.js'
import { NativeDecoder } from './decoders/native.js'
import { TopsDecoder } from './decoders/tops.js'
import { FeedIngest } from './feed-ingest.js'
import { FeedStats } from './feed-stats.js'
import { CaptureRecorder } from './recorder.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import { SESSION_GAP } from './session-sink.js'
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
  private readonly session: SoupClient | AbSession
  private readonly normalizer: Normalizer
  private freshnessTimer: NodeJS.Timeout | null = null
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
    const normalizer = new Normalizer(ring, symbols, seqs, { quotesAreFullState: config.protocol !== 'itch' })
    this.normalizer = normalizer
    const ingest = new FeedIngest(decoderFor(config.protocol, normalizer, this.stats, { sessionDate, expectedOrders: opts.expectedOrders }), normalizer)
    this.recorder = record ? new CaptureRecorder(record, config.protocol, ingest, { session: config.session }) : null
    const sink: SessionSink = this.recorder ?? ingest
    const onEvent = (ev: SessionEvent): void => {
      this.log.info({ feed: ev.feed, event: ev.kind, fromSeq: ev.fromSeq, count: ev.count, reason: ev.reason }, 'feed session event')
      if (ev.kind === SESSION_GAP) {
        this.log.warn({ feed: ev.feed, fromSeq: ev.fromSeq, missed: ev.count }, 'feed gap: every symbol of the feed is marked stale')
        normalizer.feedGap()
      }
    }
    const lineOpts = config.lines.map((line): SoupClientOptions => ({
      name: config.name, host: line.host, port: line.port, username: config.username, password: config.password,
      session: config.session, startSeq: config.startSeq, heartbeatIntervalMs: timing.heartbeatIntervalMs, deadAfterMs: timing.deadAfterMs,
    }))
    this.session = lineOpts.length === 2
      ? new AbSession(config.name, [lineOpts[0], lineOpts[1]], sink, this.stats, onEvent)
      : new SoupClient(lineOpts[0], sink, this.stats, onEvent)
    this.retryWarnings = new RetryWarnings(config.name, this.session instanceof AbSession ? this.session.clients : [this.session], log)
    if (record) log.info({ feed: config.name, record }, 'recording feed session')
  }

  start(): void {
    this.session.start()
    this.freshnessTimer = setInterval(() => this.checkFreshness(), FRESHNESS_CHECK_MS)
    this.freshnessTimer.unref()
  }

  async stop(): Promise<void> {
    if (this.freshnessTimer !== null) { clearInterval(this.freshnessTimer); this.freshnessTimer = null }
    await this.session.stop()
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
  private checkFreshness(): void {
    this.retryWarnings.check(performance.now())
    const silent = !(performance.now() - this.stats.lastReceiveMs <= this.timing.staleAfterMs) // NaN: never heard
    if (silent === this.normalizer.isDown) return
    if (!silent) { this.normalizer.feedUp(); this.log.info({ feed: this.config.name }, 'feed heard again: its symbols are fresh unless a gap stands'); return }
    this.log.warn({ feed: this.config.name, loggedIn: this.stats.loggedIn === 1, staleAfterMs: this.timing.staleAfterMs }, 'feed silent: its symbols are marked stale (feed_down)')
    this.normalizer.feedDown()
  }
}
