// Owns the API keys file: SHA-256 hashes of keys, each mapped to a principal and its grant; reloaded live.
// Must never store, log or compare a key in clear: a presented key is hashed once and looked up by its hash.
import { createHash } from 'node:crypto'
import type { Grant } from './principal.js'
import { capField, stringList } from './principal.js'

/**
 * File format (JSON):
 * { "keys": [ { "sha256": "<64 hex>", "principal": "alice", "symbols": ["AAPL", "MS*"], "roles": ["pro"],
 *               "maxHz": 1, "maxSymbols": 100, "maxConnections": 5 } ] }
 * Make a hash with `printf %s "$KEY" | sha256sum`. Removing an entry revokes the key within a second.
 */
export type KeyTable = ReadonlyMap<string, Grant>

const HEX64 = /^[0-9a-f]{64}$/

export function parseKeysFile(text: string): KeyTable {
  const doc = JSON.parse(text) as { keys?: unknown }
  if (!Array.isArray(doc.keys)) throw new Error('expected {"keys": [...]}')
  const out = new Map<string, Grant>()
  doc.keys.forEach((k: Record<string, unknown>, i: number) => {
    const hash = typeof k.sha256 === 'string' ? k.sha256.toLowerCase() : ''
    if (!HEX64.test(hash)) throw new Error(`keys[${i}].sha256 must be 64 hex digits`)
    if (typeof k.principal !== 'string' || k.principal.length === 0 || k.principal.length > 128) throw new Error(`keys[${i}].principal must be a non-empty string`)
    out.set(hash, Object.freeze({
      id: k.principal, kind: 'key', symbols: stringList(k.symbols), roles: stringList(k.roles), maxHz: capField(k.maxHz),
      maxSymbols: capField(k.maxSymbols), maxConnections: capField(k.maxConnections), expMs: Infinity, keyHash: hash,
    }))
  })
  return out
}

export function hashKey(key: string): string { return createHash('sha256').update(key, 'utf8').digest('hex') }
