// Owns the states an ITCH-derived symbol's order book can be in, as codes in the ring and names on the wire.
// Must never hold state: decoders decide a book's state, the normalizer writes it as a KIND_BOOK marker, consumers keep it.

/** the book holds every order the venue has for the symbol: its top of book is the venue's */
export const BOOK_SYNCED = 0
/** the book may miss orders (late join, gap, unknown order references): quotes still flow, flagged */
export const BOOK_PARTIAL = 1
/** not an order-book symbol (native, TOPS: every quote is the whole top of book), or no word yet */
export const BOOK_NONE = 0xff

// Ring code of a KIND_BOOK marker: PARTIAL_NONE (0) = synced, otherwise the reason the book is partial.
export const PARTIAL_NONE = 0
/** the symbol was learned from an order or trade message, not its directory entry: orders before it are unknown */
export const PARTIAL_LATE_JOIN = 1
/** the feed lost messages (a sequence gap): any order may be missing or stale */
export const PARTIAL_GAP = 2
/** an execution, cancel, delete or replace named an order the book never saw */
export const PARTIAL_UNKNOWN_ORDER = 3
/** the book was emptied to be rebuilt from a snapshot (GLIMPSE) that has not finished */
export const PARTIAL_RECOVERING = 4

/** Wire names, indexed by BOOK_SYNCED / BOOK_PARTIAL: `"book":"partial"` in snapshots, `"state"` in book events. */
export const BOOK_STATES = ['synced', 'partial'] as const
export type BookStateName = (typeof BOOK_STATES)[number]
/** Wire names of the PARTIAL_* reasons, indexed by code (0, synced, has none). */
export const PARTIAL_REASONS = ['', 'late_join', 'gap', 'unknown_order', 'recovering'] as const
export type PartialReason = (typeof PARTIAL_REASONS)[number]

/** The BOOK_* state a KIND_BOOK marker code (a PARTIAL_* reason) stands for. */
export function bookStateOf(reason: number): number { return reason === PARTIAL_NONE ? BOOK_SYNCED : BOOK_PARTIAL }
