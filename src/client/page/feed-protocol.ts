// Owns the messages between the live page and its feed worker (feed-worker.ts): what each side may ask and answer.
// Must never hold behaviour or a runtime import: tsc erases this file, so neither side loads it.
import type { ConnectionState, SymbolState } from '../tickcast-client.js'

/** Page → worker. `pull` asks for one batch: the page sends it once per animation frame, so at most one batch is in flight. */
export type ToWorker =
  /** `maxHz`: the page's `?maxHz=` (TickcastClientOptions.maxHz), absent = every update */
  | { op: 'init'; url: string; format: 'json' | 'msgpack'; token: string | undefined; maxHz: number | undefined }
  | { op: 'subscribe'; symbols: string[] }
  | { op: 'unsubscribe'; symbols: string[] }
  /** record the chart samples of this symbol from now on (null: none) */
  | { op: 'chart'; symbol: string | null }
  | { op: 'pull' }

/** Things the page shows once each (connection state, messages), in the order they happened. */
export type Notice =
  | { k: 'state'; state: ConnectionState }
  | { k: 'latency'; ms: number }
  | { k: 'error'; code: string; message: string; symbol: string | null }
  | { k: 'gap'; symbol: string }
  | { k: 'book'; symbol: string; state: string; reason: string | null }
  | { k: 'stale'; symbol: string; reason: string | null }

/**
 * Worker → page: everything that changed since the previous batch, coalesced. `rows` holds the latest state of each
 * changed symbol once, however many updates it had (SymbolState.updates counts them all); the chart's samples come
 * in full, as flat (time, a, b) triples in the worker's clock (`timeOrigin` converts it to the page's).
 */
export interface Batch {
  rows: SymbolState[]
  notices: Notice[]
  /** the symbol the chart samples belong to (a `chart` op may still be in flight) */
  chartSymbol: string | null
  /** (time, bid, ask) per quote of chartSymbol */
  chartQuotes: number[]
  /** (time, price, size) per trade of chartSymbol */
  chartTrades: number[]
  /** totals since the worker started: wire events received, and updates applied to subscribed rows */
  eventsIn: number
  updates: number
  /** performance.timeOrigin of the worker */
  timeOrigin: number
  /** the node serving the worker's client (its acks' `node`), '' before the first ack */
  node: string
}
