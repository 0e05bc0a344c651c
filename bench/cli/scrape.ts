// Owns reading a tickcast /metrics page: one sample of the series the scenarios follow (RSS, event-loop delay, data age).
// Must never fail a run because /metrics is closed or slow: a failed scrape is null and the report says so.
import type { Target } from './scenario.js'

export interface Scrape {
  rssBytes: number | null
  eventLoopP99Sec: number | null
  /** tickcast_ws_data_age_seconds: feed receive → WebSocket publish (sum and count, cumulative) */
  wsAgeSum: number | null; wsAgeCount: number | null
  feedMessages: number | null
  wsConnections: number | null
}

function value(body: string, name: string): number | null {
  let total: number | null = null
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const v = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(v)) total = (total ?? 0) + v // labelled series (per feed) add up
  }
  return total
}

export async function scrape(t: Target): Promise<Scrape | null> {
  if (!t.metrics) return null
  try {
    const r = await fetch(t.metrics, { headers: t.credential ? { authorization: `Bearer ${t.credential}` } : {}, signal: AbortSignal.timeout(5000) })
    if (r.status !== 200) return null
    const b = await r.text()
    return {
      rssBytes: value(b, 'process_resident_memory_bytes'), eventLoopP99Sec: value(b, 'nodejs_eventloop_lag_p99_seconds'),
      wsAgeSum: value(b, 'tickcast_ws_data_age_seconds_sum'), wsAgeCount: value(b, 'tickcast_ws_data_age_seconds_count'),
      feedMessages: value(b, 'tickcast_feed_messages_total'), wsConnections: value(b, 'tickcast_ws_connections'),
    }
  } catch { return null }
}

/** Mean server-side publish age (ms) between two scrapes, null when unknown or no batch was published. */
export function meanAgeMs(a: Scrape | null, b: Scrape | null): number | null {
  if (!a || !b || a.wsAgeSum === null || b.wsAgeSum === null || a.wsAgeCount === null || b.wsAgeCount === null) return null
  const n = b.wsAgeCount - a.wsAgeCount
  return n > 0 ? Math.round(((b.wsAgeSum - a.wsAgeSum) / n) * 1e6) / 1000 : null
}
