// Owns the shape of a running tickcast as its starter, main.ts and the tests see it.
// Must never hold behaviour: server.ts assembles and stops what this describes.
import type { BusPublisher } from './bus/bus-publisher.js'
import type { BusSource } from './bus/bus-source.js'
import type { LastValueCache } from './cache/last-value-cache.js'
import type { Dispatcher } from './fanout/dispatcher.js'
import type { FanoutWorkers } from './fanout/fanout-workers.js'
import type { MqttPublisher } from './fanout/mqtt-publisher.js'
import type { WsServer } from './fanout/ws-server.js'
import type { FeedHandle } from './ingest/remote-feed.js'
import type { MetricsRegistry } from './metrics/registry.js'
import type { SymbolTable } from './model/symbols.js'
import type { TickRing } from './ring/ring-buffer.js'

export interface Tickcast {
  readonly port: number
  readonly url: string
  /** the Prometheus listener's port (--metrics-host/--metrics-port) and its scrape URL */
  readonly metricsPort: number
  readonly metricsUrl: string
  /** the main thread's consumer view: the symbols its dispatcher has learned from the ring (REST, MQTT, WebSocket) */
  readonly symbols: SymbolTable
  readonly lvc: LastValueCache
  /** the ring ingest writes (tests compare what consumers saw with its cursor) */
  readonly ring: TickRing
  /** the configured feeds (on the ingest thread, a view of each: counters refreshed every 50 ms) */
  readonly feeds: readonly FeedHandle[]
  /** feeds, decoding and the ring writer run on their own thread (--ingest-thread) */
  readonly ingestThread: boolean
  readonly ws: WsServer
  readonly mqtt: MqttPublisher | null
  readonly mqttUrl: string | null
  /** the main thread's dispatcher (its clients, the LVC behind MQTT); workers have their own */
  readonly dispatcher: Dispatcher
  /** --workers > 0: the fan-out worker threads listening on the same port; else null */
  readonly workers: FanoutWorkers | null
  /** --bus: the publisher to JetStream; else null */
  readonly bus: BusPublisher | null
  /** --source: this edge's input from JetStream; else null */
  readonly source: BusSource | null
  readonly metrics: MetricsRegistry
  /** the embedded simulator's port, when no feed was configured */
  readonly simulatorPort: number | null
  /** What /readyz answers now (without the shutdown state). */
  readiness(): { ready: boolean; reason?: string }
  /** Starts draining: /readyz answers 503 (reason `draining`) while everything else keeps serving. Idempotent. */
  drain(): void
  /** Idempotent: clients get 1001, MQTT status goes offline, feeds log out, every port is freed. */
  stop(): Promise<void>
}
