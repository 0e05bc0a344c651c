// Owns what a reconnecting client asks for: per subscribe request, the last `n` it holds of the symbols it covers
// (`since`), and which node to try next. Must never touch a socket or a symbol's state: it only reads them.
import type { SymbolState } from './symbol-state.js'

/** The server's since limit is the request's entry limit; the client keeps both under this. */
export const MAX_SINCE_PER_REQUEST = 500

/**
 * `since` for one subscribe request of `entries`: each explicit entry the client has a sequence for, and, when the
 * request carries patterns, the symbols only they cover (up to the limit; the rest get a snapshot). Undefined: none.
 */
export function sinceFor(entries: readonly string[], states: ReadonlyMap<string, SymbolState>, wanted: ReadonlySet<string>): Record<string, number> | undefined {
  let since: Record<string, number> | undefined, count = 0
  const add = (s: string): void => {
    const st = states.get(s)
    if (st === undefined || st.n < 0 || count >= MAX_SINCE_PER_REQUEST) return
    (since ??= {})[s] = st.n; count++
  }
  const patterns = entries.filter((e) => e.endsWith('*')).map((p) => p.slice(0, -1))
  for (const e of entries) if (!e.endsWith('*')) add(e)
  if (patterns.length > 0) {
    for (const s of states.keys()) if (!wanted.has(s) && patterns.some((p) => s.startsWith(p))) add(s)
  }
  return since
}

/** The url list of the options: one url, a list tried in turn (failover), or a function called per attempt. */
export function nodeUrl(url: string | readonly string[] | (() => string), attempt: number): string {
  if (typeof url === 'function') return url()
  if (typeof url === 'string') return url
  return url[attempt % url.length]
}

export function coveredByPattern(wanted: ReadonlySet<string>, sym: string): boolean {
  for (const w of wanted) if (w.endsWith('*') && sym.startsWith(w.slice(0, -1))) return true
  return false
}
