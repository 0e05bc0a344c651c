// Owns one configured feed: its session line(s), payload decoder, normalizer and counters, and their lifecycle.
// Must never publish to clients: it ends at the ring; readiness and gap events are reported through callbacks.
import type { Logger } from 'pino'
import type { FeedConfig } from '../config.js'
import { bootError } from '../errors.js'
import type { SymbolTable } from '../model/symbols.js'
import { Normalizer } from '../normalize/normalizer.js'
import type { SymbolSequences } from '../normalize/normalizer.js'
import type { PayloadDecoder, TickSink } from '../normalize/tick-sink.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { NativeDecoder } from './decoders/native.js'
import { TopsDecoder } from './decoders/tops.js'
import { FeedIngest } from './feed-ingest.js'
import { FeedStats } from './feed-stats.js'
import type { SessionEvent } from './session-sink.js'
import { SESSION_GAP } from './session-sink.js'
import { SoupClient } from './soup-client.js'

export interface FeedTiming { heartbeatIntervalMs: number; deadAfterMs: number }

export function decoderFor(protocol: FeedConfig['protocol'], sink: TickSink, stats: FeedStats): PayloadDecoder {
  switch (protocol) {
    case 'native': return new NativeDecoder(sink, stats)
    case 'tops': return new TopsDecoder(sink, stats)
    case 'itch': throw bootError('FEED_PROTOCOL', 'itch feeds are not wired yet')
  }
}

export class Feed {
  readonly stats: FeedStats
  private readonly client: SoupClient

  constructor(
    readonly config: FeedConfig,
    ring: TickRing, symbols: SymbolTable, seqs: SymbolSequences, timing: FeedTiming,
    private readonly log: Logger,
    onGap: (feed: string, missed: number) => void,
  ) {
    if (config.lines.length !== 1) throw bootError('FEED_LINES', `feed ${config.name}: A/B lines are not supported yet`)
    this.stats = new FeedStats(config.name)
    const normalizer = new Normalizer(ring, symbols, seqs)
    const ingest = new FeedIngest(decoderFor(config.protocol, normalizer, this.stats), normalizer)
    const line = config.lines[0]
    this.client = new SoupClient({
      name: config.name, host: line.host, port: line.port, username: config.username, password: config.password,
      session: config.session, startSeq: config.startSeq, heartbeatIntervalMs: timing.heartbeatIntervalMs, deadAfterMs: timing.deadAfterMs,
    }, ingest, this.stats, (ev: SessionEvent) => {
      this.log.info({ feed: ev.feed, event: ev.kind, fromSeq: ev.fromSeq, count: ev.count, reason: ev.reason }, 'feed session event')
      if (ev.kind === SESSION_GAP) onGap(config.name, ev.count ?? 0)
    })
  }

  start(): void { this.client.start() }
  stop(): Promise<void> { return this.client.stop() }

  /** Logged in and heard from within `staleAfterMs`. */
  isFresh(nowMs: number, staleAfterMs: number): boolean {
    return this.stats.loggedIn === 1 && nowMs - this.stats.lastReceiveMs <= staleAfterMs
  }
}
