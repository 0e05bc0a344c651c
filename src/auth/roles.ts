// Owns the roles file: role name → symbol patterns and optional caps (maxHz tier, symbols, connections); reloaded live.
// Must never know principals: grants name roles, entitlements.ts merges them.
import type { Role } from './entitlements.js'
import { capField, stringList } from './principal.js'

/**
 * File format (JSON):
 * { "roles": { "pro": { "symbols": ["*"] }, "nonpro": { "symbols": ["*"], "maxHz": 1 }, "tech": { "symbols": ["AAPL", "MS*"] } } }
 */
export function parseRolesFile(text: string): ReadonlyMap<string, Role> {
  const doc = JSON.parse(text) as { roles?: unknown }
  if (typeof doc.roles !== 'object' || doc.roles === null || Array.isArray(doc.roles)) throw new Error('expected {"roles": {"name": {...}}}')
  const out = new Map<string, Role>()
  for (const [name, v] of Object.entries(doc.roles as Record<string, Record<string, unknown>>)) {
    if (typeof v !== 'object' || v === null) throw new Error(`roles.${name} must be an object`)
    out.set(name, { symbols: stringList(v.symbols), maxHz: capField(v.maxHz), maxSymbols: capField(v.maxSymbols), maxConnections: capField(v.maxConnections) })
  }
  return out
}
