// Owns an A/B feed session: two SoupClient lines, their Arbiter, and the mapping of line events onto it.
// Must never decode payloads: the arbitrated stream goes to one SessionSink, feed-level events to one callback.
import { performance } from 'node:perf_hooks'
import { Arbiter } from './arbiter.js'
import type { ArbiterOptions } from './arbiter.js'
import { LineStats } from './feed-stats.js'
import type { FeedStats } from './feed-stats.js'
import { SESSION_CONNECTED, SESSION_DISCONNECTED, SESSION_END, SESSION_GAP, SESSION_LOGGED_IN } from './session-sink.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import { SoupClient } from './soup-client.js'
import type { SoupClientOptions } from './soup-client.js'

export const LINE_NAMES = ['A', 'B'] as const
/** how often stashed messages are checked against maxWaitMs */
const TICK_MS = 50

/**
 * Feed-level events: line events carry `reason` "line A: ..."; SESSION_GAP comes only from the arbiter
 * (a line's own gap is a feed gap only when the other line cannot fill it), with fromSeq/count.
 */
export class AbSession {
  readonly arbiter: Arbiter
  readonly clients: readonly SoupClient[]
  readonly lineStats: readonly LineStats[]
  private ticker: NodeJS.Timeout | null = null
  private ended = 0

  constructor(
    name: string,
    lines: readonly [SoupClientOptions, SoupClientOptions],
    sink: SessionSink,
    readonly stats: FeedStats,
    private readonly onEvent: (ev: SessionEvent) => void,
    arbOpts: ArbiterOptions = {},
  ) {
    const ls = LINE_NAMES.map((l) => new LineStats(name, l))
    this.lineStats = ls
    stats.lines.length = 0
    stats.lines.push(...ls)
    this.arbiter = new Arbiter(sink, stats, ls, (fromSeq, count) => {
      onEvent({ kind: SESSION_GAP, feed: name, fromSeq, count, reason: 'missed on both lines' })
    }, { startSeq: lines[0].startSeq ?? 1, ...arbOpts })
    // Each line asks the arbiter where to resume at login: where the merged stream is, not where the line left off.
    this.clients = lines.map((o, i) => new SoupClient({ ...o, resumeFrom: (lineNextSeq) => this.arbiter.resumeSeq(i, lineNextSeq) },
      this.arbiter.lines[i], ls[i], (ev) => this.onLineEvent(i, ev)))
    this.onTick = this.onTick.bind(this)
  }

  start(): void {
    for (const c of this.clients) c.start()
    this.ticker = setInterval(this.onTick, TICK_MS)
    this.ticker.unref()
  }

  async stop(): Promise<void> {
    if (this.ticker) { clearInterval(this.ticker); this.ticker = null }
    await Promise.all(this.clients.map((c) => c.stop()))
    this.syncFlags()
  }

  private onTick(): void { this.arbiter.tick(performance.now()) }

  private onLineEvent(i: number, ev: SessionEvent): void {
    const arb = this.arbiter
    switch (ev.kind) {
      case SESSION_CONNECTED: break // the line asks resumeFrom (arbiter.resumeSeq) for its login right after
      case SESSION_LOGGED_IN: arb.lineUp(i); break
      case SESSION_GAP: arb.lineSkipped(i, (ev.fromSeq ?? 0) + (ev.count ?? 0)); break
      case SESSION_DISCONNECTED: arb.lineDown(i); break
      case SESSION_END: arb.lineDown(i); break
    }
    this.syncFlags()
    // a line's own gap is not a feed gap: it shows in that line's counters (gaps, missed) and nowhere else
    if (ev.kind === SESSION_GAP) return
    if (ev.kind === SESSION_END) {
      // the feed's session ends when both lines have said so
      if (++this.ended < this.clients.length) return
      this.stats.endOfSession++
    }
    this.onEvent({ kind: ev.kind, feed: ev.feed, fromSeq: ev.fromSeq, count: ev.count, reason: 'line ' + LINE_NAMES[i] + (ev.reason ? ': ' + ev.reason : '') })
  }

  /** feed-level flags: connected / logged in while either line is; reconnects summed */
  private syncFlags(): void {
    const [a, b] = this.lineStats, s = this.stats
    s.connected = a.connected | b.connected
    s.loggedIn = a.loggedIn | b.loggedIn
    s.reconnects = a.reconnects + b.reconnects
    s.heartbeatTimeouts = a.heartbeatTimeouts + b.heartbeatTimeouts
    s.badFrames = a.badFrames + b.badFrames
  }
}
