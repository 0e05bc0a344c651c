// Owns what one connection's output should do next, as pure state machines: the slow-consumer ladder, the throttle of
// a symbol held outside its topics (maxHz/maxAgeMs, conflation), the pacing of snapshot bursts.
// Must never read a clock, set a timer or touch a socket: callers step it with the time and the buffered bytes, then act.
//
// Every step mutates the state object it is given and returns a numeric decision: one object per connection or held
// symbol, made once, so the scan over 10,000 connections allocates nothing (writer.test.ts drives each transition with
// a fake clock).

/** Throttled symbols are flushed on this timer: it bounds maxHz (≤ 100) and maxAgeMs (≥ 10). */
export const THROTTLE_TICK_MS = 10
/** Largest snapshot frame, as the dispatcher's FRAME_BYTES: a `*` snapshot is many frames, never one of megabytes. */
export const SNAPSHOT_FRAME_MAX_BYTES = 64 * 1024
/** Smallest snapshot frame, whatever the soft limit: one snapshot event (≤ JSON_EVENT_MAX_BYTES) must fit. */
export const SNAPSHOT_FRAME_MIN_BYTES = 1024

export interface LadderLimits {
  /** over it (at a scan) the connection conflates; under half of it a conflating connection catches up */
  readonly softBytes: number
  /** over it the connection is closed at once (uWS maxBackpressure drops frames past it) */
  readonly hardBytes: number
  /** a connection still conflating after this long never drained: it is closed */
  readonly graceMs: number
}

// Ladder modes
export const LADDER_NORMAL = 0
/** over the soft limit: nothing is sent, only "changed since" is kept per symbol */
export const LADDER_CONFLATING = 1
/** drained: the catch-up snapshots are being written, paced like any snapshot burst */
export const LADDER_CATCHING_UP = 2
export const LADDER_CLOSED = 3

// Ladder inputs
/** the periodic look at the socket's buffered bytes (outside any publish) */
export const LADDER_SCAN = 0
/** uWS wrote part of the socket's buffer */
export const LADDER_DRAIN = 1
/** uWS dropped a frame: the buffer is over the hard limit and exact accounting has ended */
export const LADDER_DROPPED = 2
/** the connection wrote its last catch-up snapshot */
export const LADDER_CAUGHT_UP = 3

// Ladder decisions
export const LADDER_STAY = 0
/** take every topic out of its topics, announce `conflating` */
export const LADDER_CONFLATE = 1
/** snapshot what changed, put the rest back into its topics */
export const LADDER_CATCH_UP = 2
/** announce `normal` */
export const LADDER_RESUME = 3
/** close with 4001, outside any uWS publish */
export const LADDER_CLOSE = 4

export class LadderState {
  mode = LADDER_NORMAL
  /** when the current conflation began (the caller's clock) */
  conflatingSinceMs = 0
}

export function stepLadder(s: LadderState, input: number, bufferedBytes: number, nowMs: number, lim: LadderLimits): number {
  if (s.mode === LADDER_CLOSED) return LADDER_STAY
  if (input === LADDER_DROPPED || bufferedBytes > lim.hardBytes) { s.mode = LADDER_CLOSED; return LADDER_CLOSE }
  const scan = input === LADDER_SCAN
  switch (s.mode) {
    case LADDER_NORMAL:
      return scan && bufferedBytes > lim.softBytes ? conflate(s, nowMs) : LADDER_STAY
    case LADDER_CONFLATING:
      // drained wins over the grace: a reader that caught up at the last moment is healthy
      if (input !== LADDER_CAUGHT_UP && bufferedBytes <= lim.softBytes / 2) { s.mode = LADDER_CATCHING_UP; return LADDER_CATCH_UP }
      if (scan && nowMs - s.conflatingSinceMs > lim.graceMs) { s.mode = LADDER_CLOSED; return LADDER_CLOSE }
      return LADDER_STAY
    default: // LADDER_CATCHING_UP
      if (input === LADDER_CAUGHT_UP) { s.mode = LADDER_NORMAL; return LADDER_RESUME }
      // live updates of the symbols already back pushed it over again: it is slow again (its catch-up waits)
      return scan && bufferedBytes > lim.softBytes ? conflate(s, nowMs) : LADDER_STAY
  }
}

function conflate(s: LadderState, nowMs: number): number {
  s.mode = LADDER_CONFLATING; s.conflatingSinceMs = nowMs
  return LADDER_CONFLATE
}

/**
 * What the limits count during a snapshot burst: everything buffered, snapshots included. A burst is written only
 * while the buffer is at most half the soft limit (the line a conflating reader must drain to), in frames of at most
 * half the soft limit, so snapshots alone never take a connection over the soft limit, let alone the hard one: a
 * healthy reader of a 30,000-symbol `*` snapshot is paced by its own drain, and only live updates it does not read
 * can start the ladder (ws-server.test.ts: "30,000-symbol universe").
 */
export function maySendSnapshots(s: LadderState, bufferedBytes: number, lim: LadderLimits): boolean {
  return (s.mode === LADDER_NORMAL || s.mode === LADDER_CATCHING_UP) && bufferedBytes <= lim.softBytes / 2
}

export function snapshotFrameBytes(lim: LadderLimits): number {
  return Math.max(SNAPSHOT_FRAME_MIN_BYTES, Math.min(SNAPSHOT_FRAME_MAX_BYTES, Math.floor(lim.softBytes / 2)))
}

/** Effective maxHz (0 = none): the throttle timer cannot send more often than once per tick. */
export function effectiveMaxHz(maxHz: number): number {
  return maxHz > 0 ? Math.min(maxHz, 1000 / THROTTLE_TICK_MS) : 0
}

/** Effective maxAgeMs (0 = none) for an effective maxHz: at least one tick, and with maxHz one interval plus a tick. */
export function effectiveMaxAgeMs(hz: number, maxAgeMs: number): number {
  let age = maxAgeMs > 0 ? Math.max(maxAgeMs, THROTTLE_TICK_MS) : 0
  if (hz > 0 && age > 0) age = Math.max(age, Math.ceil(1000 / hz) + THROTTLE_TICK_MS)
  return age
}

/**
 * One (connection, symbol) held outside their topics: throttled, conflated, or waiting for its snapshot. Made when the
 * symbol is detached, reused until it is attached again.
 */
export class HeldSymbol {
  /** changed since the last value this connection was sent */
  dirty = false
  /** trades not delivered one by one since then (signalled as trades_skipped before the next snap) */
  trades = 0
  firstDirtyMs = 0
  lastSentMs = Number.NEGATIVE_INFINITY
  /** throttle; both 0 = not throttled (conflation or an owed snapshot only) */
  minIntervalMs = 0
  maxAgeMs = 0
  /** a snapshot is owed: it sits in the connection's snapshot queue, and nothing else is sent for it first */
  owed = false
  /**
   * What the client holds (throttled-events.ts): the n of the last snapshot or update it was sent (-1 unknown: the
   * next send is a snap), and the staleness and book state that went with it (updates do not carry them).
   */
  lastN = -1
  lastStale = 0
  lastBook = 0
  constructor(readonly id: number) {}
  get throttled(): boolean { return this.minIntervalMs > 0 || this.maxAgeMs > 0 }
}

// Held-symbol inputs
/** the dispatcher published the symbol with `trades` trades in this batch */
export const HELD_UPDATE = 0
/** the throttle timer */
export const HELD_TICK = 1
/** the connection has just written this symbol's snap (its latest value) */
export const HELD_SENT = 2

// Held-symbol decisions
export const HELD_KEEP = 0
/** it was clean and is dirty now: the caller lists it for its throttle timer */
export const HELD_BECAME_DIRTY = 1
/** a throttled symbol is due and counts as clean from now: send its snap (after a trades_skipped for `trades`), then step HELD_SENT */
export const HELD_SEND = 2

export function stepHeld(h: HeldSymbol, input: number, nowMs: number, trades = 0): number {
  if (input === HELD_UPDATE) {
    h.trades += trades
    if (h.dirty) return HELD_KEEP
    h.dirty = true; h.firstDirtyMs = nowMs
    return HELD_BECAME_DIRTY
  }
  if (input === HELD_SENT) {
    h.dirty = false; h.trades = 0; h.lastSentMs = nowMs; h.owed = false
    return HELD_KEEP
  }
  if (!h.dirty || h.owed || !h.throttled) return HELD_KEEP
  // maxHz: one interval after the last value (a change after a quiet spell goes at the next tick); maxAgeMs alone:
  // as late as the budget allows, a tick early since the next tick would be late. With both, the ack made
  // maxAgeMs ≥ one interval + a tick, so the interval rule meets it. +1: timers fire a little early or late.
  const due = h.minIntervalMs > 0 ? Math.max(h.lastSentMs + h.minIntervalMs, h.firstDirtyMs) : h.firstDirtyMs + h.maxAgeMs - THROTTLE_TICK_MS
  if (nowMs + 1 < due) return HELD_KEEP
  h.dirty = false // a second entry for it in the caller's dirty list is now skipped
  return HELD_SEND
}
