// Owns the plain per-feed counters and gauges that the session, framer and decoders bump on the hot path.
// Must never hold protocol state (nothing reads a field back to decide anything) nor touch prom-client.

/** Why an event reached no symbol (a bounded label set): its locate never named one, named an invalid one, or was refused. */
export const UNATTRIBUTABLE_REASONS = ['no_stock', 'bad_symbol', 'refused'] as const
export const UNATTRIBUTABLE_NO_STOCK = 0, UNATTRIBUTABLE_BAD_SYMBOL = 1, UNATTRIBUTABLE_REFUSED = 2
/** ITCH message types that reference an order by its ref: unknown references are counted per type */
export const UNKNOWN_ORDER_TYPES = ['E', 'C', 'X', 'D', 'U'] as const
/** Why a symbol definition was refused (a bounded label set). */
export const REFUSAL_REASONS = ['owner', 'pattern', 'quota', 'capacity'] as const
export const REFUSED_OWNER = 0, REFUSED_PATTERN = 1, REFUSED_QUOTA = 2, REFUSED_CAPACITY = 3

export class FeedStats {
  connected = 0
  loggedIn = 0
  /** sequenced messages accepted from the session (after resume de-duplication) */
  messages = 0
  bytes = 0
  reconnects = 0
  /** messages skipped because they were already seen (replay overlap, B-line copies) */
  duplicates = 0
  /** sequence gaps declared and the number of messages they covered */
  gaps = 0
  missed = 0
  heartbeatTimeouts = 0
  endOfSession = 0
  /** performance.now() of the last byte received; NaN before the first */
  lastReceiveMs = Number.NaN
  /**
   * Gauge: the next sequence the session expects (SoupBinTCP counts from 1; 0 while a live start waits for its
   * first login). A copy for tickcast_feed_next_sequence, written by SoupClient or the Arbiter
   * whenever their own position moves; the resume point itself is SoupClient.nextExpectedSeq.
   */
  nextSeqGauge = 1
  /** decode status → count, indexed by the DECODE_* codes of errors.ts */
  readonly decodeErrors = new Float64Array(8)
  /** frames whose length field is impossible (0, or over the maximum): the stream cannot resync */
  badFrames = 0
  /** gauge: connections in a row that ended on a bad frame (0 once a connection ends otherwise) */
  badFrameStreak = 0
  /** ITCH symbols learned from an order/trade/status message because no directory entry was seen (late join) */
  lateJoins = 0
  /** events refused as an unknown symbol, by UNATTRIBUTABLE_REASONS */
  readonly unattributable = new Float64Array(UNATTRIBUTABLE_REASONS.length)
  /** ITCH executions/cancels/deletes/replaces of an order the book never saw, by UNKNOWN_ORDER_TYPES */
  readonly unknownOrders = new Float64Array(UNKNOWN_ORDER_TYPES.length)
  /** symbol definitions this feed was refused, by REFUSAL_REASONS (another feed owns it, pattern, quota, capacity) */
  readonly symbolRefusals = new Float64Array(REFUSAL_REASONS.length)
  /** gauge: ITCH books currently partial (kept by the decoder as books change state) */
  partialBooks = 0
  /** quotes an ITCH book built that the normalizer refused */
  quotesRefused = 0

  /** GLIMPSE recovery: snapshots applied, ITCH messages they carried, attempts that failed (retried) */
  snapshots = 0
  snapshotMessages = 0
  snapshotFailures = 0

  /** A/B feeds: one entry per line (A, B); empty for a single-line feed */
  readonly lines: LineStats[] = []

  constructor(readonly name: string) {}
}

/**
 * One line of an A/B feed: its own session counters (the SoupClient of the line bumps the FeedStats fields)
 * plus what the arbiter decided about its messages. `messages` counts what the line delivered, won or not.
 */
export class LineStats extends FeedStats {
  /** messages this line delivered first (forwarded downstream) */
  won = 0
  /** copies dropped because the other line had already delivered that sequence */
  arbDuplicates = 0
  /** how many sequences this line is behind the leading line (0 for the leader) */
  lagMessages = 0

  constructor(feed: string, readonly line: string) { super(feed) }
}
