// Owns the scratch arrays snapshot writing shares across every connection (one thread, never re-entered).
// Must never keep ids past the call that filled them: each request and each frame starts over.

/**
 * Typed arrays with counts, grown to the symbol table's capacity: a Set cleared per request and arrays reset to length
 * 0 were regrown for every `*` (~9 MB/s of garbage under bench:hostile's churn).
 */
export const scratch = { requested: new Int32Array(0), frame: new Int32Array(0) }
let seenAt = new Uint32Array(0), seenStamp = 0

export function growScratch(capacity: number): void {
  if (scratch.requested.length >= capacity) return
  scratch.requested = new Int32Array(capacity); scratch.frame = new Int32Array(capacity)
  seenAt = new Uint32Array(capacity); seenStamp = 0
}

/** Puts `added` then `listed` into scratch.requested, each id once, in that order; returns how many. */
export function uniqueRequested(added: readonly number[], listed: readonly number[], capacity: number): number {
  growScratch(capacity)
  if (++seenStamp === 0xffffffff) { seenAt.fill(0); seenStamp = 1 }
  const ids = scratch.requested, seen = seenAt, stamp = seenStamp
  let n = 0
  for (const id of added) if (seen[id] !== stamp) { seen[id] = stamp; ids[n++] = id }
  for (const id of listed) if (seen[id] !== stamp) { seen[id] = stamp; ids[n++] = id }
  return n
}
