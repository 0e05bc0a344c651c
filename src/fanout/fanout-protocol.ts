// Owns the messages between the main thread and fan-out worker threads, and the counters they carry.
// Must never carry per-tick data: ticks travel through the shared ring; these are control-plane messages only.
import type { LatestValuesHandle } from '../cache/latest-values.js'
import type { PageRouteOptions } from '../http/page-routes.js'
import type { ReadyState } from '../http/routes.js'
import type { SharedSymbolsHandle } from '../model/shared-symbols.js'
import type { SymbolSequencesHandle } from '../normalize/symbol-sequences.js'
import type { RingHandle } from '../ring/ring-buffer.js'
import type { WsServerOptions } from './ws-server.js'

export interface FanoutWorkerData {
  index: number
  ring: RingHandle
  /** symbols and per-symbol counters in shared memory: the worker learns each symbol from its KIND_SYMBOL event */
  symbols: SharedSymbolsHandle
  seqs: SymbolSequencesHandle
  /** the writer's latest values (ingest on its own thread): a lapped worker conflates from them; null = none */
  latest: LatestValuesHandle | null
  ws: Omit<WsServerOptions, 'ready' | 'extraRoutes'>
  /** the live page's routes (src/http/page-routes.ts) for the worker's app, as the main app has them; null = none */
  pageRoutes: PageRouteOptions | null
  logLevel: string
  /** --dispatch-interval-ms and --dispatch-max-busy-pct (drain-pacer.ts) */
  dispatchIntervalMs: number
  dispatchMaxBusyPct: number
}

/** DispatchStats and MirrorStats counters as plain numbers (structured clone). */
export interface DispatchCounters {
  batches: number; events: number; lapped: number; laps: number; frames: number; frameBytes: number
  lappedSymbols: number; conflations: number; conflatedTrades: number; ageCounts: Float64Array; ageSum: number; ageCount: number; torn: number
}

export type ToWorker =
  | { t: 'ready'; state: ReadyState }
  | { t: 'stats' }
  | { t: 'stop' }

export type FromWorker =
  /** the worker's uWS app, for the main app's addChildAppDescriptor */
  | { t: 'descriptor'; d: number }
  | { t: 'stats'; ws: Record<string, unknown>; dispatch: DispatchCounters }
  | { t: 'stopped' }
