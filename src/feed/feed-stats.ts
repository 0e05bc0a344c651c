// Owns the plain per-feed counters and gauges that the session, framer and decoders bump on the hot path.
// Must never hold protocol state (nothing reads a field back to decide anything) nor touch prom-client.

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
