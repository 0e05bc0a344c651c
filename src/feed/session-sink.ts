// Owns the contract between a feed session (SoupBinTCP client, capture replay) and what consumes it.
// Must never carry transport details: sinks see sequenced payloads and batch boundaries only.

/** Receives the sequenced messages of one feed session, batch by batch (one batch per TCP chunk). */
export interface SessionSink {
  /** called before the first message of a chunk, with one clock read (performance.now()) */
  beginBatch(recvTimeMs: number): void
  /**
   * One sequenced payload `buf[off, off + len)`; `seq` is its session sequence number (from 1).
   * Called exactly once per sequence number, in order, across reconnects: the session de-duplicates.
   * The bytes are only valid during the call.
   */
  message(buf: Buffer, off: number, len: number, seq: number): void
  /** called after the last message of a chunk */
  endBatch(): void
  /**
   * Optional fused fast path (feed-ingest.ts): buf[off, end) holds whole packets of the session's framing, length
   * prefix included. Takes a run of Sequenced Data packets from `off` as message() would get them one by one (with
   * consecutive sequence numbers), stopping at the first it does not take (anything but its common case, a length field
   * over `maxLen`, a packet cut by `end`); returns where it stopped and sets `taken` to the number of messages taken.
   */
  take?(buf: Buffer, off: number, end: number, maxLen: number): number
  /** messages the last take() consumed */
  readonly taken?: number
}

export const SESSION_CONNECTED = 'connected'
export const SESSION_LOGGED_IN = 'logged_in'
export const SESSION_DISCONNECTED = 'disconnected'
export const SESSION_GAP = 'gap'
export const SESSION_END = 'end_of_session'
export type SessionEventKind = typeof SESSION_CONNECTED | typeof SESSION_LOGGED_IN | typeof SESSION_DISCONNECTED | typeof SESSION_GAP | typeof SESSION_END

/** Rare events (never per message) for logs, readiness and in-band gap signals to clients. */
export interface SessionEvent {
  kind: SessionEventKind
  feed: string
  /** for gaps: first missing sequence and how many were missed */
  fromSeq?: number
  count?: number
  reason?: string
}
