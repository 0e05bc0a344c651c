// Owns assembling tickcast from a Config: feeds → normalizer → ring → dispatcher → WebSocket / MQTT, and stopping it.
// Must never parse configuration or touch process state (signals, exit): main.ts does that.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { authOptions, mqttTls, serverTls } from './auth/from-config.js'
import { LastValueCache } from './cache/last-value-cache.js'
import { LatestValues } from './cache/latest-values.js'
import { FORMAT_JSON, FORMAT_MSGPACK } from './codec/tick-codec.js'
import type { Config, FeedConfig } from './config.js'
import type { EmbeddedSimulator, StartSimulator } from './embedded-feed.js'
import { BootError } from './errors.js'
import type { PageRouteOptions } from './http/page-routes.js'
import { admissionLimits } from './http/admission-config.js'
import { ensurePortFree } from './http/port-probe.js'
import { MetricsListener } from './http/metrics-listener.js'
import { cachedScrape } from './http/scrape-cache.js'
import { DispatchStats, Dispatcher } from './fanout/dispatcher.js'
import { startEmbeddedBroker } from './fanout/embedded-broker.js'
import { mqttClientId, shutdownBudget } from './fanout/mqtt-identity.js'
import { FanoutWorkers } from './fanout/fanout-workers.js'
import { MqttPublisher } from './fanout/mqtt-publisher.js'
import { WsServer } from './fanout/ws-server.js'
import { WsStats } from './fanout/ws-stats.js'
import { Feed } from './feed/feed.js'
import { IngestThread, ingestOnThread } from './ingest/ingest-thread.js'
import type { FeedHandle } from './ingest/remote-feed.js'
import { RingFollower } from './ingest/ring-follower.js'
import { registerCatalogue } from './metrics/catalogue.js'
import { HttpStats } from './metrics/http-stats.js'
import { MetricsRegistry } from './metrics/registry.js'
import { SharedSymbols } from './model/shared-symbols.js'
import { SymbolTable } from './model/symbols.js'
import { SymbolSequences } from './normalize/symbol-sequences.js'
// the bus modules load nats: imported only when --bus or --source asks for them (fast start, issue 15)
import type { BusPublisher } from './bus/bus-publisher.js'
import type { BusSource } from './bus/bus-source.js'
import { redactUrl } from './redact.js'
import { RingReplay } from './resume/ring-replay.js'
import { TickRing } from './ring/ring-buffer.js'
import { symbolGlob } from './normalize/symbol-ownership.js'
import type { TemplatedApp } from 'uWebSockets.js'

/** /readyz fails while an edge is this many bus messages behind the stream's end, or an ingest node this many events behind in publishing */
const BUS_READY_MAX_LAG = 50_000

import type { Tickcast } from './tickcast-handle.js'
export type { Tickcast }

export interface StartOptions {
  /** extra HTTP routes on the same app (the live page) */
  extraRoutes?: (app: TemplatedApp) => void
  /**
   * The live page's routes for fan-out worker threads' apps (FanoutWorkerData.pageRoutes): the same options
   * extraRoutes registers on the main app. main.ts passes both.
   */
  pageRoutes?: PageRouteOptions
  /** collect Node process metrics (off in tests that start many servers) */
  processMetrics?: boolean
  /** wait up to this long for the feeds to be ready before listening (main.ts: the start banner's wait); default 0 */
  readyWaitMs?: number
  /**
   * Starts the feed simulator when no feed is configured (embedded mode); unused otherwise. main.ts passes
   * feeds/sim/embedded.ts (a worker thread); without it, a config with no feed is a boot error (NO_FEED).
   */
  startSimulator?: StartSimulator
}

export async function startTickcast(config: Config, log: Logger, opts: StartOptions = {}): Promise<Tickcast> {
  // Stopping runs in stages, also when boot fails midway: clients are told first (1001), then everything
  // that only depends on the infrastructure stops in parallel, then the embedded broker and simulator.
  // One after another, the MQTT `offline` acknowledgement, feed logouts and the simulator's end of session
  // could add up past the 2 s shutdown deadline on a loaded machine.
  const undo: Array<{ stage: number; stop: () => Promise<unknown> | void }> = []
  const CLIENTS = 3, PIPELINE = 2, INFRA = 1
  const unwind = async (): Promise<void> => {
    for (const stage of [CLIENTS, PIPELINE, INFRA]) await Promise.all(undo.filter((u) => u.stage === stage).map((u) => u.stop()))
  }
  try {
    // Ingest writes the shared symbol store and per-symbol counters; consumers learn symbols from the ring.
    const sharedSymbols = new SharedSymbols(config.maxSymbols)
    const symbols = new SymbolTable(sharedSymbols)
    const seqs = new SymbolSequences(config.maxSymbols)
    const ring = new TickRing(config.ringCapacity)
    // sequences are only comparable within one stream: without a configured epoch, this process is its own stream
    const streamEpoch = config.streamEpoch || `node-${randomUUID()}`
    const lvc = new LastValueCache(config.maxSymbols)
    // Ingest on its own thread (issue 12): the feed is read as fast as it arrives; a reader it laps conflates from the
    // writer's latest values (README, Overload) instead of holding the feed back.
    const onThread = ingestOnThread(config)
    const latest = onThread ? new LatestValues(config.maxSymbols) : null

    const budget = shutdownBudget(config.shutdownDeadlineMs)
    // before anything starts: a second instance fails fast
    await Promise.all([ensurePortFree(config.host, config.port), ensurePortFree(config.metricsHost, config.metricsPort)])
    let feedConfigs: readonly FeedConfig[] = config.feeds
    let simulator: EmbeddedSimulator | null = null
    let simulatorStarting: Promise<EmbeddedSimulator> | null = null
    if (feedConfigs.length === 0 && config.source.length === 0) {
      // src/ never imports feeds/: the composition root hands the simulator in (StartOptions.startSimulator)
      if (!opts.startSimulator) throw new BootError('NO_FEED', 'no feed configured (--feed) and no embedded simulator to start')
      // Fast start: the simulator's thread starts while the broker and MQTT connect below (other awaits, other core).
      // Its stop is registered now, so a failure elsewhere meanwhile still stops it once it has started.
      const starting = opts.startSimulator({ port: 0, symbols: config.simSymbols, rate: config.simRate, seed: config.simSeed })
      simulatorStarting = starting
      starting.catch(() => undefined) // awaited below; a broker failure first must not leave this rejection unhandled
      undo.push({ stage: INFRA, stop: () => starting.then((s) => s.stop(), () => undefined) })
    }

    // Fast start: the broker binds while the simulator's thread comes up, and the ingest thread (its own module load,
    // ~0.1 s) boots while MQTT connects and the fan-out is built. Consumers read from sequence 0 whenever they start
    // (the dispatcher's staging ring and a fan-out worker's mirror begin at -1): a feed ahead of them loses nothing.
    const brokerStarting = config.mqttUrl === '' ? startEmbeddedBroker({ host: '127.0.0.1', port: config.mqttEmbeddedPort, closeTimeoutMs: budget.brokerCloseMs }) : null
    if (brokerStarting !== null) {
      brokerStarting.catch(() => undefined) // awaited below; a simulator failure first must not leave this rejection unhandled
      undo.push({ stage: INFRA, stop: () => brokerStarting.then((b) => b.close(), () => undefined) })
    }
    if (simulatorStarting !== null) {
      simulator = await simulatorStarting
      feedConfigs = [{ name: 'sim', protocol: 'native', lines: [{ host: '127.0.0.1', port: simulator.port }], username: '', password: '', session: '', startSeq: 1 }]
      log.info({ port: simulator.port, symbols: config.simSymbols, rate: config.simRate }, 'embedded feed simulator started (no --feed given)')
    }
    // a symbol belongs to the feed that defines it first, or to the feed whose symbols= pattern names it
    const claims = feedConfigs.map((fc, k) => ({ index: k + 1, pattern: fc.symbols ? symbolGlob(fc.symbols) : null }))
    // snapshots name the feed a symbol belongs to (SharedSymbols.owner, shared memory: the ingest thread's too)
    for (const [k, fc] of feedConfigs.entries()) sharedSymbols.setFeedName(k + 1, fc.name)
    const timing = { heartbeatIntervalMs: config.feedHeartbeatMs, deadAfterMs: config.feedDeadAfterMs, staleAfterMs: config.feedStaleAfterMs }
    let ingestStarting: Promise<IngestThread> | null = null
    if (latest !== null && feedConfigs.length > 0) {
      const starting = IngestThread.start({ ring, symbols: sharedSymbols, seqs, latest, feeds: feedConfigs, claims, timing, logLevel: config.logLevel,
        stopDeadlineMs: budget.mqttStopMs }, log)
      ingestStarting = starting
      starting.catch(() => undefined) // awaited below (its boot error is the one reported)
      undo.push({ stage: PIPELINE, stop: () => starting.then((t) => t.stop(), () => undefined) })
    }

    let mqtt: MqttPublisher | null = null
    let mqttUrl: string | null = null
    let mqttStarting: Promise<void> | null = null
    if (config.mqttUrl !== 'none') {
      let protocolVersion = config.mqttProtocolVersion
      mqttUrl = config.mqttUrl
      let credentials = { username: config.mqttUsername, password: config.mqttPassword }
      if (brokerStarting !== null) {
        const broker = await brokerStarting
        credentials = broker.credentials
        mqttUrl = broker.url
        protocolVersion = 4 // aedes speaks MQTT 3.1.1 only
        log.info({ url: redactUrl(mqttUrl) }, 'embedded MQTT broker started (no --mqtt-url given)')
      }
      mqtt = new MqttPublisher({
        url: mqttUrl, nodeId: config.mqttNodeId, protocolVersion, topicPrefix: config.mqttPrefix,
        format: config.mqttFormat === 'json' ? FORMAT_JSON : FORMAT_MSGPACK, quoteExpirySec: config.mqttQuoteExpirySec,
        tradesQos: config.mqttTradesQos, retainLastTrade: config.mqttRetainLastTrade,
        username: credentials.username || undefined, password: credentials.password || undefined, tls: mqttTls(config),
        clientId: mqttClientId(config.mqttNodeId), stopTimeoutMs: budget.mqttStopMs,
      }, symbols, lvc, log)
      undo.push({ stage: PIPELINE, stop: () => mqtt!.stop() })
      // Fast start: connecting overlaps building the fan-out below and is awaited before listening. Until the
      // CONNACK the publisher counts what it skips and republishes the latest values on connect, as after an outage.
      // stop() during the connect settles it (MQTT_STOPPED), so an unwind never waits on a broker.
      mqttStarting = mqtt.start()
      mqttStarting.catch(() => undefined)
    }

    const feeds: FeedHandle[] = []
    const metrics = new MetricsRegistry(opts.processMetrics ?? true)
    const wsStats = new WsStats(), httpStats = new HttpStats()
    let draining = false
    const isReady = (): { ready: boolean; reason?: string } => {
      if (draining) return { ready: false, reason: 'draining' }
      const now = performance.now()
      const stale = feeds.filter((f) => !f.isFresh(now, config.feedStaleAfterMs)).map((f) => f.config.name)
      if (stale.length > 0) return { ready: false, reason: `feeds not fresh: ${stale.join(', ')}` }
      if (source !== null) return source.health(BUS_READY_MAX_LAG)
      return bus !== null ? bus.health(BUS_READY_MAX_LAG) : { ready: true }
    }
    const wsOptions = {
      maxSymbolsPerConnection: config.wsMaxSymbols, maxPatternsPerConnection: config.wsMaxPatterns,
      maxControlMessagesPerSec: config.wsMaxControlPerSec, maxPayloadLengthBytes: config.wsMaxPayloadBytes,
      maxBackpressureBytes: config.wsMaxBackpressureBytes, slowGraceMs: config.wsSlowGraceMs, slowHardLimitBytes: config.wsSlowHardLimitBytes,
      idleTimeoutSec: config.wsIdleTimeoutSec, frameIntervalMs: config.wsFrameIntervalMs,
      allowedOrigins: config.allowedOrigins.length > 0 ? config.allowedOrigins : null, streamEpoch, node: config.nodeName,
      auth: authOptions(config), tls: serverTls(config),
      admission: admissionLimits(config, log),
    }
    // --workers N: the main thread keeps ingest, MQTT (its dispatcher feeds the LVC behind it) and the listen socket;
    // its app hands every accepted connection to one of N worker threads (uWS child apps), each mirroring the ring
    // with its own cache, dispatcher and WsServer. /metrics is served by the main thread alone, which sums all.
    let workers: FanoutWorkers | null = null
    const sumWs = new WsStats(), sumDispatch = Object.assign(new DispatchStats(), { readSeq: -1 })
    const scrape = cachedScrape(async (): Promise<{ contentType: string; body: string | Uint8Array }> => {
      if (workers !== null) await workers.collect(wsStats, dispatcher.stats, sumWs, sumDispatch)
      return metrics.metrics()
    })
    const ws = new WsServer({ ...wsOptions, ready: isReady, extraRoutes: opts.extraRoutes, http: httpStats }, symbols, lvc, wsStats, log)

    // with the ingest thread, the dispatcher drains validated copies of the shared ring, one drain's worth at a time
    const drained = latest !== null ? RingFollower.staging(ring) : ring
    const dispatcher = new Dispatcher(drained, lvc, symbols, seqs, ws, mqtt, (lost, named) => {
      log.warn({ lost, symbols: named }, latest !== null ? 'fan-out lapped by the feed: resumed at the head from the latest values (conflated)'
        : 'fan-out lapped by the feed: affected symbols marked stale (lapped)')
    }, latest !== null ? { latest } : null)
    dispatcher.pacer.pace(config.dispatchIntervalMs, config.dispatchMaxBusyPct / 100)
    undo.push({ stage: PIPELINE, stop: () => dispatcher.stop() })
    // started once listening (below): the ingest thread's ring is read from sequence 0 whenever the follower starts
    const follower = latest !== null ? new RingFollower(ring, drained, dispatcher) : null
    if (follower !== null) undo.push({ stage: PIPELINE, stop: () => follower.stop() })
    // read in place on the shared ring, a resume scans at most a quarter ring back (the writer stays at least half a ring
    // ahead of the oldest slot a consumer within half a ring of it may replay)
    ws.enableResume(new RingReplay(ring, lvc, symbols, () => dispatcher.position, streamEpoch, latest !== null ? config.ringCapacity >>> 2 : undefined))
    if (config.workers > 0) {
      // started before the feeds, so each worker's mirror sees the ring from sequence 0
      workers = new FanoutWorkers({
        count: config.workers, ring, symbols: sharedSymbols, seqs, latest, ws: wsOptions, pageRoutes: opts.pageRoutes ?? null, logLevel: config.logLevel,
        dispatchIntervalMs: config.dispatchIntervalMs, dispatchMaxBusyPct: config.dispatchMaxBusyPct,
        ready: isReady,
      }, log)
      undo.push({ stage: PIPELINE, stop: () => workers!.stop() })
    }

    // --bus: this node also publishes to JetStream, as a ring consumer of its own (started before the feeds: from seq 0)
    // --source: an edge; the bus writes this node's ring as a feed would, with the ingest nodes' n
    let source: BusSource | null = null
    if (config.source.length > 0) {
      const { BusSource } = await import('./bus/bus-source.js')
      source = new BusSource(ring, sharedSymbols, seqs, { servers: config.source, stream: config.busStream, prefix: config.busSubjectPrefix, epoch: config.streamEpoch }, log)
      await source.start()
      undo.push({ stage: PIPELINE, stop: () => source!.stop() })
    }
    let bus: BusPublisher | null = null
    if (config.bus.length > 0) {
      const { BusPublisher } = await import('./bus/bus-publisher.js')
      bus = new BusPublisher(ring, sharedSymbols, {
        servers: config.bus, name: config.busStream, prefix: config.busSubjectPrefix, replicas: config.busReplicas, maxAgeSec: config.busMaxAgeSec,
        maxMsgsPerSubject: config.busMaxMsgsPerSubject, duplicateWindowSec: config.busDuplicateWindowSec, epoch: streamEpoch,
      }, log)
      await bus.start()
      undo.push({ stage: PIPELINE, stop: () => bus!.stop() })
    }

    if (ingestStarting !== null) {
      const thread = await ingestStarting
      feeds.push(...thread.feeds)
      log.info({ feeds: feedConfigs.length }, 'ingest runs on its own thread (--ingest-thread)')
    } else {
      for (const [k, fc] of feedConfigs.entries()) {
        const feed = new Feed(fc, ring, sharedSymbols, seqs, timing, log, { ownership: { index: k + 1, claims } })
        feeds.push(feed)
        feed.start()
        undo.push({ stage: PIPELINE, stop: () => feed.stop() })
      }
    }
    registerCatalogue(metrics, {
      feeds: feeds.map((f) => f.stats), ring, symbols, dispatch: workers ? sumDispatch : dispatcher.stats, ws: workers ? sumWs : wsStats, mqtt: mqtt?.stats ?? null,
      // with workers, HTTP is served (and would be counted) on the worker threads, whose request counts are not summed yet
      http: workers ? undefined : httpStats,
      bus: bus?.stats ?? null, busSource: source?.stats ?? null,
    })

    await mqttStarting // MQTT's startup policy decides before anyone is told the server listens (README)
    // Fast start (issue 15): the fan-out's first drain (every symbol's first quote, retained on MQTT: ~0.1 s of this
    // thread) comes after the feeds are ready and the server listens, not while their counters wait behind it.
    for (const until = performance.now() + (opts.readyWaitMs ?? 0); !isReady().ready && performance.now() < until;) await new Promise((r) => setTimeout(r, 5))
    if (workers !== null) await workers.attach(ws) // before listening: every connection goes to a worker
    const port = await ws.listen(config.host, config.port)
    // workers and the main app close together: every client gets its 1001 within one close grace
    undo.push({ stage: CLIENTS, stop: () => workers !== null ? Promise.all([ws.close(), workers.stop()]) : ws.close() })

    // /metrics on a listener of its own (loopback by default), never the clients' port; plain HTTP even with TLS
    const metricsListener = new MetricsListener(scrape, httpStats)
    const metricsPort = await metricsListener.listen(config.metricsHost, config.metricsPort)
    undo.push({ stage: CLIENTS, stop: () => metricsListener.close() })
    const metricsUrl = `http://${config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost}:${metricsPort}/metrics`

    const url = `${config.tlsCertFile ? 'wss' : 'ws'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/v1/stream`
    log.info({ url, metrics: metricsUrl, http: `${config.tlsCertFile ? 'https' : 'http'}://${config.host}:${port}/`, mqtt: mqttUrl !== null ? redactUrl(mqttUrl) : null, feeds: feedConfigs.map((f) => f.name) }, 'tickcast listening')

    follower?.start() // its first drain runs after this resolves (a setImmediate): symbols are learned before a request is read
    let stopping: Promise<void> | null = null
    return {
      port, url, metricsPort, metricsUrl, symbols, lvc, ring, feeds, ingestThread: latest !== null, ws, mqtt, mqttUrl, dispatcher, workers, bus, source, metrics,
      simulatorPort: simulator?.port ?? null,
      readiness: isReady,
      drain: () => { draining = true },
      stop: () => stopping ??= unwind(),
    }
  } catch (e) {
    await unwind()
    throw e
  }
}
