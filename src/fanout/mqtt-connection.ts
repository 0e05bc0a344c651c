// Owns the publisher's broker session: connect with a CONNACK deadline, the will and the retained online/offline node
// status, reconnects and their logging, a bounded stop. Must never decide what is published or queue anything while
// down: it tells its owner when the session goes up or down and hands it the socket to measure.
import { connect } from 'mqtt'
import type { IClientOptions, IClientPublishOptions, IConnackPacket, MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { bootError } from '../errors.js'
import { redactUrl } from './mqtt-stats.js'
import type { MqttPublisherOptions, MqttStats } from './mqtt-stats.js'

const ONLINE = Buffer.from('online')
const OFFLINE = Buffer.from('offline')

/** The parts of the socket the publisher reads; mqtt.js types its stream as a union of Duplex flavours. */
export interface SocketSide {
  readonly writableLength: number
  readonly writableNeedDrain: boolean
  once(event: 'drain', fn: () => void): unknown
  removeListener(event: 'drain', fn: () => void): unknown
}

/** What the owner does when the session changes; called after `live` changed. */
export interface SessionEvents {
  /** CONNACK: `first` for the initial connect; the broker's Receive Maximum is in connack.properties */
  up(first: boolean, connack: IConnackPacket): void
  /** the socket closed (not called for stop()) */
  down(): void
}

export class MqttConnection {
  /** true between a CONNACK and the next close or stop(): only then may the owner publish */
  live = false
  /** the socket of the live session (its backlog bounds what the owner writes); null before the first connect */
  sock: SocketSide | null = null
  private client: MqttClient | null = null
  private readonly clientOpts: IClientOptions
  private readonly statusOpts: IClientPublishOptions = { qos: 1, retain: true }
  private readonly url: string
  private readonly connectTimeoutMs: number
  private readonly stopTimeoutMs: number
  private everConnected = false
  private stopping = false
  private outageLogged = false
  private lastError = ''
  private startPromise: Promise<void> | null = null
  private stopPromise: Promise<void> | null = null
  private settleStart: ((err: Error | null) => void) | null = null

  constructor(opts: MqttPublisherOptions, readonly statusTopic: string, private readonly stats: MqttStats,
    private readonly log: Logger, private readonly events: SessionEvents) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 2000
    this.url = opts.url
    this.clientOpts = {
      protocolVersion: (opts.protocolVersion ?? 5) === 5 ? 5 : 4,
      clientId: opts.clientId ?? `tickcast-${opts.nodeId}`,
      username: opts.username,
      password: opts.password,
      clean: true,
      keepalive: opts.keepaliveSec ?? 15,
      reconnectPeriod: opts.reconnectPeriodMs ?? 500,
      connectTimeout: this.connectTimeoutMs,
      // Critical: the default (true) queued 10,000 stale quotes during an outage and replayed them.
      queueQoSZero: false,
      will: { topic: statusTopic, payload: OFFLINE, qos: 1, retain: true },
      ...opts.tls, // mqtts:// / wss://: CA, client certificate and key, server name (src/auth/from-config.ts)
    }
  }

  /** Connects; resolves on the first CONNACK, rejects (and gives up) after connectTimeoutMs. */
  start(): Promise<void> {
    if (this.startPromise !== null) return this.startPromise
    if (this.stopping) return Promise.reject(bootError('MQTT_STOPPED', 'MQTT publisher already stopped'))
    this.startPromise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A publisher that never connected is dead: stop retrying so nothing lingers after a failed boot.
        this.stopping = true
        this.client?.end(true)
        this.settleStart?.(bootError('MQTT_CONNECT', `no CONNACK from ${redactUrl(this.url)} within ${this.connectTimeoutMs} ms${this.lastError === '' ? '' : ` (last error: ${this.lastError})`}`))
      }, this.connectTimeoutMs)
      this.settleStart = (err) => {
        this.settleStart = null
        clearTimeout(timer)
        if (err === null) resolve()
        else reject(err)
      }
    })
    const c = connect(this.url, this.clientOpts)
    this.client = c
    c.on('connect', this.onConnect)
    c.on('close', this.onClose)
    c.on('error', this.onError)
    return this.startPromise
  }

  /** Only while live (the owner checks). `done` is mqtt.js's callback: for QoS 1, PUBACK or the packet given up. */
  publish(topic: string, payload: Buffer, opts: IClientPublishOptions, done: (() => void) | undefined): void {
    ;(this.client as MqttClient).publish(topic, payload, opts, done)
  }

  /** Idempotent: publishes `offline` (retained) if connected, then disconnects; resolves by stopTimeoutMs. */
  stop(): Promise<void> {
    if (this.stopPromise !== null) return this.stopPromise
    this.stopping = true
    this.settleStart?.(bootError('MQTT_STOPPED', 'MQTT publisher stopped before it connected'))
    const c = this.client, wasLive = this.live && c !== null && c.connected
    this.live = false
    this.stats.connected = 0
    this.stopPromise = new Promise<void>((resolve) => {
      if (c === null) { resolve(); return }
      let done = false
      const finish = (): void => { if (!done) { done = true; clearTimeout(timer); resolve() } }
      const timer = setTimeout(() => { c.end(true); finish() }, this.stopTimeoutMs)
      // A clean DISCONNECT suppresses the will, so say `offline` ourselves first (QoS 1: wait for PUBACK).
      if (wasLive) c.publish(this.statusTopic, OFFLINE, this.statusOpts, () => { c.end(false, finish) })
      else c.end(true, finish)
    })
    return this.stopPromise
  }

  private readonly onConnect = (connack: IConnackPacket): void => {
    const c = this.client
    if (this.stopping || c === null) return
    const first = !this.everConnected
    this.everConnected = true
    if (!first) this.stats.reconnects++
    this.sock = c.stream as unknown as SocketSide
    this.live = true
    this.stats.connected = 1
    this.outageLogged = false
    this.log.info({ url: redactUrl(this.url), clientId: this.clientOpts.clientId, reconnects: this.stats.reconnects }, first ? 'mqtt connected' : 'mqtt reconnected')
    c.publish(this.statusTopic, ONLINE, this.statusOpts)
    this.events.up(first, connack)
    this.settleStart?.(null)
  }

  private readonly onClose = (): void => {
    const wasLive = this.live
    this.live = false
    this.stats.connected = 0
    this.events.down()
    if (wasLive && !this.stopping) this.log.warn({ url: redactUrl(this.url) }, 'mqtt disconnected; dropping updates until reconnected')
  }

  private readonly onError = (err: Error): void => {
    this.lastError = err.message
    // Reconnect attempts fail every reconnectPeriod: one line per outage, not one per attempt.
    if (!this.outageLogged && !this.stopping) { this.outageLogged = true; this.log.warn({ err: err.message, url: redactUrl(this.url) }, 'mqtt error') }
  }
}
