// Owns assembling tickcast from a Config: feeds → normalizer → ring → dispatcher → WebSocket / MQTT, and stopping it.
// Must never parse configuration or touch process state (signals, exit): main.ts does that.
import type { Logger } from 'pino'
import { LastValueCache } from './cache/last-value-cache.js'
import { FORMAT_JSON, FORMAT_MSGPACK } from './codec/tick-codec.js'
import type { Config, FeedConfig } from './config.js'
import { startEmbeddedSimulator } from './embedded-simulator.js'
import type { EmbeddedSimulator } from './embedded-simulator.js'
import { Dispatcher } from './fanout/dispatcher.js'
import { startEmbeddedBroker } from './fanout/embedded-broker.js'
import { MqttPublisher } from './fanout/mqtt-publisher.js'
import { WsServer } from './fanout/ws-server.js'
import { WsStats } from './fanout/ws-stats.js'
import { Feed } from './feed/feed.js'
import { registerCatalogue } from './metrics/catalogue.js'
import { MetricsRegistry } from './metrics/registry.js'
import { SymbolTable } from './model/symbols.js'
import { SymbolSequences } from './normalize/normalizer.js'
import { TickRing } from './ring/ring-buffer.js'
import type { TemplatedApp } from 'uWebSockets.js'

export interface Tickcast {
  readonly port: number
  readonly url: string
  readonly symbols: SymbolTable
  readonly lvc: LastValueCache
  readonly feeds: readonly Feed[]
  readonly ws: WsServer
  readonly mqtt: MqttPublisher | null
  readonly mqttUrl: string | null
  readonly dispatcher: Dispatcher
  readonly metrics: MetricsRegistry
  /** the embedded simulator's port, when no feed was configured */
  readonly simulatorPort: number | null
  /** Idempotent: clients get 1001, MQTT status goes offline, feeds log out, every port is freed. */
  stop(): Promise<void>
}

export interface StartOptions {
  /** extra HTTP routes on the same app (the live page) */
  extraRoutes?: (app: TemplatedApp) => void
  /** collect Node process metrics (off in tests that start many servers) */
  processMetrics?: boolean
}

export async function startTickcast(config: Config, log: Logger, opts: StartOptions = {}): Promise<Tickcast> {
  const undo: Array<() => Promise<void> | void> = [] // stop in reverse order of start, also when boot fails midway
  const unwind = async (): Promise<void> => { for (const f of undo.reverse()) await f() }
  try {
    const symbols = new SymbolTable(config.maxSymbols)
    const seqs = new SymbolSequences(config.maxSymbols)
    const ring = new TickRing(config.ringCapacity)
    const lvc = new LastValueCache(config.maxSymbols)

    let feedConfigs: readonly FeedConfig[] = config.feeds
    let simulator: EmbeddedSimulator | null = null
    if (feedConfigs.length === 0) {
      simulator = await startEmbeddedSimulator({ port: 0, symbols: config.simSymbols, rate: config.simRate, seed: config.simSeed })
      undo.push(() => simulator!.stop())
      feedConfigs = [{ name: 'sim', protocol: 'native', lines: [{ host: '127.0.0.1', port: simulator.port }], username: '', password: '', session: '', startSeq: 1 }]
      log.info({ port: simulator.port, symbols: config.simSymbols, rate: config.simRate }, 'embedded feed simulator started (no --feed given)')
    }

    let mqtt: MqttPublisher | null = null
    let mqttUrl: string | null = null
    if (config.mqttUrl !== 'none') {
      let protocolVersion = config.mqttProtocolVersion
      mqttUrl = config.mqttUrl
      if (!mqttUrl) {
        const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
        undo.push(() => broker.close())
        mqttUrl = broker.url
        protocolVersion = 4 // aedes speaks MQTT 3.1.1 only
        log.info({ url: mqttUrl }, 'embedded MQTT broker started (no --mqtt-url given)')
      }
      mqtt = new MqttPublisher({
        url: mqttUrl, nodeId: config.mqttNodeId, protocolVersion, topicPrefix: config.mqttPrefix,
        format: config.mqttFormat === 'json' ? FORMAT_JSON : FORMAT_MSGPACK, quoteExpirySec: config.mqttQuoteExpirySec,
        username: config.mqttUsername || undefined, password: config.mqttPassword || undefined,
      }, symbols, lvc, log)
      await mqtt.start()
      undo.push(() => mqtt!.stop())
    }

    const feeds: Feed[] = []
    const metrics = new MetricsRegistry(opts.processMetrics ?? true)
    const wsStats = new WsStats()
    const isReady = (): { ready: boolean; reason?: string } => {
      const now = performance.now()
      const stale = feeds.filter((f) => !f.isFresh(now, config.feedStaleAfterMs)).map((f) => f.config.name)
      return stale.length === 0 ? { ready: true } : { ready: false, reason: `feeds not fresh: ${stale.join(', ')}` }
    }
    const ws = new WsServer({
      maxSymbolsPerConnection: config.wsMaxSymbols, maxPatternsPerConnection: config.wsMaxPatterns,
      maxControlMessagesPerSec: config.wsMaxControlPerSec, maxPayloadLengthBytes: config.wsMaxPayloadBytes,
      maxBackpressureBytes: config.wsMaxBackpressureBytes, slowGraceMs: config.wsSlowGraceMs, slowHardLimitBytes: config.wsSlowHardLimitBytes,
      idleTimeoutSec: config.wsIdleTimeoutSec,
      allowedOrigins: config.allowedOrigins.length > 0 ? config.allowedOrigins : null,
      ready: isReady, metrics: () => metrics.metrics(), extraRoutes: opts.extraRoutes,
    }, symbols, lvc, wsStats, log)

    const dispatcher = new Dispatcher(ring, lvc, symbols, ws, mqtt, (lost) => {
      log.warn({ lost }, 'fan-out lapped by the feed: clients told of the gap')
      ws.broadcastGap(lost)
    })
    undo.push(() => dispatcher.stop())

    for (const fc of feedConfigs) {
      const feed = new Feed(fc, ring, symbols, seqs, { heartbeatIntervalMs: config.feedHeartbeatMs, deadAfterMs: config.feedDeadAfterMs }, log,
        (name, missed) => { log.warn({ feed: name, missed }, 'feed gap: clients told of the gap'); ws.broadcastGap(missed) })
      feeds.push(feed)
      feed.start()
      undo.push(() => feed.stop())
    }
    registerCatalogue(metrics, { feeds: feeds.map((f) => f.stats), ring, symbols, dispatch: dispatcher.stats, ws: wsStats, mqtt: mqtt?.stats ?? null })

    const port = await ws.listen(config.host, config.port)
    undo.push(() => ws.close())
    const url = `ws://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/v1/stream`
    log.info({ url, http: `http://${config.host}:${port}/`, mqtt: mqttUrl, feeds: feedConfigs.map((f) => f.name) }, 'tickcast listening')

    let stopping: Promise<void> | null = null
    return {
      port, url, symbols, lvc, feeds, ws, mqtt, mqttUrl, dispatcher, metrics, simulatorPort: simulator?.port ?? null,
      stop: () => stopping ??= unwind(),
    }
  } catch (e) {
    await unwind()
    throw e
  }
}
