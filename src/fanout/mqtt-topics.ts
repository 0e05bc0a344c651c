// Owns MQTT topic names: validation of prefixes, node ids and symbols, and the per-symbol topic cache.
// Must never let a name that is not proven safe become a topic level (no / # $ NUL or raw +, no empty level, ASCII only).
import { SYMBOL_PATTERN } from '../model/symbols.js'
import type { SymbolTable } from '../model/symbols.js'

export const DEFAULT_TOPIC_PREFIX = 'md/v1'
/** One or more levels of the symbol alphabet; no leading/trailing `/`, no wildcard, no `$` (reserved for $SYS). */
const PREFIX_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){0,7}$/
/** Node ids name the status topic and the client id: the symbol alphabet, a bit longer. */
const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function isValidTopicPrefix(prefix: string): boolean { return prefix.length <= 128 && PREFIX_PATTERN.test(prefix) }
export function isValidNodeId(nodeId: string): boolean { return NODE_ID_PATTERN.test(nodeId) }

/**
 * True when `sym` may be a single topic level. SymbolTable.add already enforces SYMBOL_PATTERN; this
 * re-checks because the table is shared and a name that reaches a broker unchecked becomes a wildcard
 * publish or a topic injection (reliability.md C.4.5). `typeof` guards a hole in the name array.
 */
export function isTopicSymbol(sym: string | undefined): sym is string {
  return typeof sym === 'string' && SYMBOL_PATTERN.test(sym)
}

/**
 * The symbol as a topic level: MQTT forbids `+` anywhere in a topic name (it is a filter wildcard), and
 * the alphabet allows it for warrants (AIG+), so it is percent-encoded: AIG+ → AIG%2B. The payload's `s`
 * field carries the symbol unchanged. Runs once per symbol, never per message.
 */
export function topicLevel(sym: string): string { return sym.replaceAll('+', '%2B') }

/** `${prefix}/quotes/${level}`, or null when the symbol is rejected (a status, not a throw: it is counted). */
export function quoteTopicFor(prefix: string, sym: string | undefined): string | null {
  return isTopicSymbol(sym) ? `${prefix}/quotes/${topicLevel(sym)}` : null
}

/** `${prefix}/trades/${level}`, or null when the symbol is rejected. */
export function tradeTopicFor(prefix: string, sym: string | undefined): string | null {
  return isTopicSymbol(sym) ? `${prefix}/trades/${topicLevel(sym)}` : null
}

/** `${prefix}/state/${level}` (the symbol's retained stale/fresh marker), or null when the symbol is rejected. */
export function stateTopicFor(prefix: string, sym: string | undefined): string | null {
  return isTopicSymbol(sym) ? `${prefix}/state/${topicLevel(sym)}` : null
}

/** `${prefix}/trading/${level}` (the symbol's retained trading status: halted, trading…), or null when the symbol is rejected. */
export function tradingTopicFor(prefix: string, sym: string | undefined): string | null {
  return isTopicSymbol(sym) ? `${prefix}/trading/${topicLevel(sym)}` : null
}

/** `${prefix}/status/${nodeId}`, or null when the node id is rejected. */
export function statusTopicFor(prefix: string, nodeId: string): string | null {
  return isValidNodeId(nodeId) ? `${prefix}/status/${nodeId}` : null
}

// per-id state: 0 = not yet checked
const TOPIC_VALID = 1
const TOPIC_INVALID = 2

/**
 * Topic strings per symbol id, built once on first use (never a template string per message). Lazy
 * rather than when the symbol is learned, so a name is validated at the moment it would be published.
 */
export class TopicCache {
  readonly quote: string[] = []
  readonly trade: string[] = []
  readonly state: string[] = []
  readonly trading: string[] = []
  private readonly verdict: Uint8Array

  constructor(readonly prefix: string, private readonly symbols: SymbolTable) {
    this.verdict = new Uint8Array(symbols.capacity)
  }

  /** True when symbol `id` has topics; false (forever) when its name cannot be a topic level. */
  ready(id: number): boolean {
    const s = this.verdict[id]
    if (s === TOPIC_VALID) return true
    if (s === TOPIC_INVALID || id >= this.verdict.length) return false
    const name = this.symbols.name[id]
    if (name === undefined) return false // not learned yet: no verdict to remember
    const q = quoteTopicFor(this.prefix, name), t = tradeTopicFor(this.prefix, name), st = stateTopicFor(this.prefix, name)
    const tr = tradingTopicFor(this.prefix, name)
    if (q === null || t === null || st === null || tr === null) { this.verdict[id] = TOPIC_INVALID; return false }
    this.quote[id] = q; this.trade[id] = t; this.state[id] = st; this.trading[id] = tr; this.verdict[id] = TOPIC_VALID
    return true
  }
}
