// Owns what a connection's output holds once it has been slow, throttled, owed a snapshot or closed.
// Must never be made for a connection that only receives its topics' publishes (idle memory, issue 12).
import type { CloseReason } from '../ws-stats.js'
import { LadderState } from './writer.js'
import type { HeldSymbol } from './writer.js'

export interface CatchUpTally { symbols: number; snapshots: number; tradesSkipped: number }

/** Made on first use: an idle connection, or one that only ever receives its topics' publishes, carries none of it. */
export class OutputState extends LadderState {
  /** set just before this server ends the socket, so the close handler counts the right reason */
  closeReason: CloseReason | null = null
  heldMap: Map<number, HeldSymbol> | null = null
  /** throttled ids that became dirty, in order (the throttle timer reads only these) */
  dirtyIds: number[] | null = null
  /** ids owed a snapshot, in order; entries whose HeldSymbol is no longer owed are stale and skipped */
  owedIds: number[] | null = null
  owedHead = 0
  throttledCount = 0
  /** what the current catch-up did, for the `normal` announcement (made at the first catch-up) */
  tally: CatchUpTally | null = null
}

/** The ladder of every connection without an OutputState: normal, and never stepped (frozen: a write would throw). */
export const NORMAL: LadderState = Object.freeze(new LadderState())
