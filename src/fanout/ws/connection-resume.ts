// Owns choosing, for one subscribe with `since`, which symbols resume from the ring and which get a snapshot.
// Must never write a snapshot or decide ring contents: RingReplay plans and writes, the connection sends.
import type { RingReplay } from '../../resume/ring-replay.js'
import type { SymbolTable } from '../../model/symbols.js'
import type { RequestResult } from '../../subscriptions/registry.js'

/** scratch (single thread, never re-entered) */
const ids: number[] = [], since: number[] = [], ok: boolean[] = []
const seen = new Set<number>()

/**
 * Plans the resume of every symbol the request subscribes (new or listed) that `sinceBySymbol` names, except those
 * the connection holds outside its topics (`isHeld`: throttled, conflating, owed a snapshot: they get a snapshot).
 * Recovered ids leave out.added / out.listed, so no snapshot is written for them. Returns the ack's `recovered`
 * map; the caller must call replay.write(format, resumedIds()) before anything else runs.
 */
export function planResume(replay: RingReplay, symbols: SymbolTable, sinceBySymbol: ReadonlyMap<string, number>, out: RequestResult,
  isHeld: (id: number) => boolean): Record<string, boolean> {
  ids.length = 0; since.length = 0; seen.clear()
  const recovered: Record<string, boolean> = {}
  for (const list of [out.added, out.listed]) {
    for (const id of list) {
      if (seen.has(id)) continue
      seen.add(id)
      const name = symbols.name[id], s = sinceBySymbol.get(name)
      if (s === undefined) continue
      if (isHeld(id)) { recovered[name] = false; replay.stats.unrecovered++; continue }
      ids.push(id); since.push(s)
    }
  }
  replay.plan(ids, since, ok)
  let keep = 0
  for (let k = 0; k < ids.length; k++) {
    recovered[symbols.name[ids[k]]] = ok[k]
    if (ok[k]) { replay.stats.recovered++; ids[keep++] = ids[k] } else replay.stats.unrecovered++
  }
  ids.length = keep
  if (keep > 0) {
    seen.clear()
    for (const id of ids) seen.add(id)
    out.added = out.added.filter((id) => !seen.has(id))
    out.listed = out.listed.filter((id) => !seen.has(id))
  }
  return recovered
}

/** The ids the last planResume recovered (valid until the next call). */
export function resumedIds(): readonly number[] { return ids }
