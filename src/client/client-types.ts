// Owns the client library's public contract: the events it emits, the options it takes, the socket shape it drives.
// Must never hold behaviour or a runtime import: tsc erases this file from tickcast-client.js, so a browser never loads it.
import type { BookEvent, QuoteEvent, StaleEvent, StatusEvent, SymbolState, TradeEvent } from './symbol-state.js'

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

/**
 * An unexplained sequence gap: update `received` of `symbol` arrived when `expected` was due, with no `stale` event
 * before it to say why (the server announces every loss it knows of in-band, so this means frames were lost between
 * the server and this client). The client re-requests that symbol's snapshot (a plain subscribe: the server
 * snapshots every symbol a subscribe names) and ignores its updates until it arrives. A pattern-only symbol has no
 * snapshot to ask for: the update becomes its new baseline.
 */
export interface GapEvent { reason: 'sequence'; symbol: string; expected: number; received: number; lost: number }

/** A control error from the server (`code` per src/errors.ts ERR_*), or a client-side DECODE / SOCKET problem. */
export interface ClientError { code: string; message: string; symbol: string | null }

export interface ClientEvents {
  quote: QuoteEvent
  trade: TradeEvent
  status: StatusEvent
  snapshot: SymbolState
  /** the symbol's data may be incomplete (`reason`), or is complete again (`reason` null): SymbolState.stale */
  stale: StaleEvent
  /** an order-book symbol's book became partial (`reason`) or synced again: SymbolState.book */
  book: BookEvent
  gap: GapEvent
  state: ConnectionState
  error: ClientError
  /** ping → pong round trip in ms (performance.now) */
  latency: number
}

/** The subset of the WHATWG WebSocket the client uses (browsers' WebSocket and the `ws` package both fit). */
export interface WebSocketLike {
  binaryType: string
  onopen: (() => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: (() => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export interface TickcastClientOptions {
  /**
   * ws://host:port/v1/stream; a list of nodes (after a close the next one is tried: failover, and the client resumes
   * there with `since`, as n is the same on every node); or a function called before each (re)connect
   */
  url: string | readonly string[] | (() => string)
  format?: 'json' | 'msgpack'
  /** A fixed credential (JWT or API key), sent in-band as the first message (`op: auth`), never in the URL. */
  token?: string
  /**
   * Called for a credential at each (re)connect and when the server warns that the current one expires
   * (`auth_expiring`): the client refreshes in-band. Wins over `token`. A 4401/4403 close ends the session.
   */
  getToken?: () => string | Promise<string>
  /** WebSocket constructor: default globalThis.WebSocket; in Node pass the `ws` package's export */
  WebSocket?: new (url: string) => object
  reconnect?: { minMs?: number; maxMs?: number }
  /** ping period for the latency figure; 0 = only explicit ping() calls */
  pingIntervalMs?: number
  /**
   * Throttle: every subscribe asks the server for at most this many updates per second per symbol (its `maxHz`;
   * the server coalesces to the latest value: an update whose `c` counts those conflated before it, so n may jump by
   * c + 1, and trades_skipped for trades; a snapshot when staleness changed). For a view a
   * person reads, not for a consumer that must see every update. Default: every update.
   */
  maxHz?: number
}
