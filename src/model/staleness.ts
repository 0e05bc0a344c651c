// Owns the reasons a symbol's data may be incomplete, as codes in the ring and names on the wire.
// Must never hold state: the normalizer decides upstream staleness, each consumer its own (lapped), the LVC keeps both.

/** fresh: everything the source sent for this symbol has been delivered in order */
export const STALE_NONE = 0
/** the feed lost messages (a sequence gap nothing could fill): any of its symbols may have missed updates */
export const STALE_FEED_GAP = 1
/** the feed is down or silent (disconnected, or nothing heard for --feed-stale-after-ms): updates may be missing */
export const STALE_FEED_DOWN = 2
/** this server's fan-out fell a whole ring behind and lost events of this symbol (never the feed's fault) */
export const STALE_LAPPED = 3

/** Wire names, indexed by code: `"stale":"feed_gap"` in snapshots, `"reason":"feed_gap"` in stale events. */
export const STALE_REASONS = ['', 'feed_gap', 'feed_down', 'lapped'] as const
export type StaleReason = (typeof STALE_REASONS)[number]
