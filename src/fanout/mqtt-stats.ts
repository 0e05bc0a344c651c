// Owns what the MQTT publisher is configured with and what it counts: options, per-kind publish options, counters.
// Must never touch prom-client or a socket: the metrics registry reads these numbers at scrape time.
import type { WireFormat } from '../codec/tick-codec.js'
import { LATENCY_BUCKETS_SEC, PlainHistogram } from '../metrics/histogram.js'

export interface MqttPublisherOptions {
  url: string
  /** names the status topic `${prefix}/status/${nodeId}`; the default client id is `tickcast-${nodeId}` */
  nodeId: string
  clientId?: string
  username?: string
  /** TLS to the broker (mqtts:// or wss://): PEM CA, client certificate and key, server name */
  tls?: { ca?: string; cert?: string; key?: string; servername?: string }
  password?: string
  /** 5 (default) or 4 = MQTT 3.1.1 (aedes): with 4 no MQTT 5 properties are sent */
  protocolVersion?: 4 | 5
  topicPrefix?: string
  format?: WireFormat
  /** MQTT 5 message expiry of retained quotes: the broker drops them if we stop updating; 0 = none */
  quoteExpirySec?: number
  /** QoS of trades and live status events: 1 = at least once, at most the broker's Receive Maximum in flight (default 0) */
  tradesQos?: 0 | 1
  /** retain each trade on its topic, so a late subscriber gets the last one at once (default false) */
  retainLastTrade?: boolean
  keepaliveSec?: number
  reconnectPeriodMs?: number
  /** socket writable length above which nothing is written: quotes stay dirty, trades are dropped */
  maxBufferedBytes?: number
  /** start() rejects when no CONNACK arrived within this time */
  connectTimeoutMs?: number
  /** stop() resolves after this time even if the broker never acknowledged `offline` */
  stopTimeoutMs?: number
}

/** Plain counters read at scrape time by the metrics module (no prom-client on the publish path). */
export class MqttStats {
  /** 1 while connected (CONNACK seen, no close since), else 0 */
  connected = 0
  /** PUBLISH packets written (quotes, trades, status events; not the node status) */
  publishes = 0
  /** payload bytes of those publishes */
  bytes = 0
  /** offers (quotes, trades, status events) made while disconnected; quotes are republished on connect */
  skippedDisconnected = 0
  /** quote updates superseded while the socket was backed up (a later one for the same symbol replaced them unsent) */
  conflated = 0
  /** trades and status events not published because the socket was backed up or (QoS 1) the broker's Receive
   *  Maximum of unacknowledged publishes was reached (live only, never retried) */
  tradesDropped = 0
  /** connects after the first */
  reconnects = 0
  /** events refused because their symbol name cannot be a topic level */
  invalidTopics = 0
  /** receive → MQTT publish, seconds; one observation per flush while live (the batch's oldest event) */
  readonly ageAtPublishSec = new PlainHistogram(LATENCY_BUCKETS_SEC)
  /** bytes queued on the broker socket, read at scrape time (the publisher installs the reader on start) */
  readBacklogBytes: () => number = noBacklog
  /** QoS 1 publishes awaiting PUBACK, read at scrape time (the publisher installs the reader) */
  readInflight: () => number = noBacklog
}

function noBacklog(): number { return 0 }

/** The broker URL without credentials, for logs and errors (one implementation: src/redact.ts). */
export { redactUrl } from '../redact.js'
