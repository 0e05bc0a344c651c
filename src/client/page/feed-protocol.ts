// Owns the messages between the live page and its feed worker (feed-worker.ts): what each side may ask and answer.
// Must never hold behaviour: types and the batch's field offsets only (both sides import the offsets).
import type { ConnectionState } from '../tickcast-client.js'

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
 * A batch's numeric fields per changed symbol, in this order, ROW_FIELDS numbers a symbol (absent values are NaN):
 * its id (the index of its name in the worker's list, sent once in `names`), sequence, bid, ask, sizes, last, updates.
 */
export const F_ID = 0, F_N = 1, F_BID = 2, F_ASK = 3, F_BS = 4, F_AS = 5, F_LAST = 6, F_UPDATES = 7, ROW_FIELDS = 8

/** A symbol's rarely changing text fields (SymbolState's), sent only in the batch after one of them changed. */
export interface RowText { id: number; status: string | null; stale: string | null; book: string | null; bookReason: string | null; feed: string | null }

/**
 * Worker → page: everything that changed since the previous batch, coalesced. `rows` holds the latest numbers of each
 * changed symbol once, however many updates it had (F_UPDATES counts them all); the chart's samples come in full, as
 * flat (time, a, b) triples in the worker's clock (`timeOrigin` converts it to the page's). The typed arrays are
 * transferred, not cloned (feed-worker.ts): the page's cost of a batch is then one small message whatever the rate.
 */
export interface Batch {
  /** ROW_FIELDS numbers per changed symbol */
  rows: Float64Array
  /** names of the symbols given ids since the previous batch: id = the worker's count before them + index */
  names: string[]
  /** the id of names[0] */
  firstId: number
  texts: RowText[]
  notices: Notice[]
  /** the symbol the chart samples belong to (a `chart` op may still be in flight) */
  chartSymbol: string | null
  /** (time, bid, ask) per quote of chartSymbol */
  chartQuotes: Float64Array
  /** (time, price, size) per trade of chartSymbol */
  chartTrades: Float64Array
  /** totals since the worker started: wire events received, and updates applied to subscribed rows */
  eventsIn: number
  updates: number
  /** performance.timeOrigin of the worker */
  timeOrigin: number
  /** the node serving the worker's client (its acks' `node`), '' before the first ack */
  node: string
}
