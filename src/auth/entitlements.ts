// Owns a principal's resolved entitlements: compiled symbol patterns, maxHz tier, symbol and connection caps.
// Must never run per delivered message: it is consulted at subscribe, pattern expansion and REST time only.
import type { Grant } from './principal.js'

/** A role from the roles file: patterns and optional caps, merged into every grant that names it. */
export interface Role { symbols: readonly string[]; maxHz: number; maxSymbols: number; maxConnections: number }

export class Entitlements {
  private readonly exact = new Set<string>()
  private readonly prefixes: string[] = []
  readonly all: boolean
  constructor(patterns: readonly string[],
    /** updates per second per symbol; 0 = no tier */
    readonly maxHz: number,
    /** symbols per connection; 0 = the server's limit */
    readonly maxSymbols: number,
    /** live connections of this principal; 0 = unlimited */
    readonly maxConnections: number) {
    let all = false
    for (const p of patterns) {
      if (p === '*') all = true
      else if (p.endsWith('*')) this.prefixes.push(p.slice(0, -1))
      else this.exact.add(p)
    }
    this.all = all
  }

  /** May this principal receive `symbol`? Exact names, `PREFIX*` patterns, or `*`. */
  allows(symbol: string): boolean {
    if (this.all || this.exact.has(symbol)) return true
    for (const p of this.prefixes) if (symbol.startsWith(p)) return true
    return false
  }

  /** Same rules and caps (a reload that changed nothing for this principal leaves its connections alone). */
  sameAs(o: Entitlements): boolean {
    return this.all === o.all && this.maxHz === o.maxHz && this.maxSymbols === o.maxSymbols && this.maxConnections === o.maxConnections &&
      this.exact.size === o.exact.size && [...this.exact].every((s) => o.exact.has(s)) &&
      this.prefixes.length === o.prefixes.length && this.prefixes.every((p) => o.prefixes.includes(p))
  }
}

export const EVERYTHING = new Entitlements(['*'], 0, 0, 0)

/**
 * A grant's own patterns plus those of its roles (unknown roles grant nothing). Caps: the grant's own value when it
 * sets one, else the most generous of its roles (a role without the cap means no cap from that role).
 */
export function resolveEntitlements(g: Grant, roles: ReadonlyMap<string, Role>): Entitlements {
  if (g.kind === 'anonymous') return EVERYTHING
  const patterns = [...g.symbols]
  const found: Role[] = []
  for (const name of g.roles) { const r = roles.get(name); if (r) { found.push(r); patterns.push(...r.symbols) } }
  const cap = (own: number, pick: (r: Role) => number): number => {
    if (own > 0 || found.length === 0) return own
    let best = -1
    for (const r of found) { const v = pick(r); if (v === 0) return 0; best = Math.max(best, v) }
    return best
  }
  return new Entitlements(patterns, cap(g.maxHz, (r) => r.maxHz), cap(g.maxSymbols, (r) => r.maxSymbols), cap(g.maxConnections, (r) => r.maxConnections))
}
