// Owns publishing to JetStream with asynchronous acknowledgements: one reply subscription for every publish (the
// ack's subject names the ring sequence it carried), in-flight publishes by sequence, and their timeouts.
// Must never decide what to publish or what a failure means for the stream's order (bus-publisher.ts does).
import { createInbox, headers } from 'nats'
import type { Msg, NatsConnection, Subscription } from 'nats'

/** Nats-Msg-Id: the header JetStream de-duplicates on */
const MSG_ID = 'Nats-Msg-Id'
/** the feed that owns the record's symbol (its configured --feed name), so an edge's snapshots name it as ingest's do */
export const FEED_HEADER = 'Tickcast-Feed'
const SWEEP_MS = 100

export interface AckSink {
  acked(seq: number, duplicate: boolean): void
  /** no ack in time, a 503 (no stream leader), or an error reply */
  failed(seq: number): void
}

/**
 * Why not js.publish: it is a request per event, and nats.js makes a promise, a timer, a mux entry and (even with
 * noAsyncTraces) a Cancelled NatsError with its stack trace for each; profiled at 8,000 events/s that was most of the
 * ingest node's CPU and GC. Here a publish is one core-NATS write, and an ack one callback with a small JSON parse.
 */
export class PublishAcks {
  private readonly prefix: string
  private readonly sub: Subscription
  /** ring sequence → when it was published (ms); insertion order is publish order, so the sweep stops at the first young one */
  private readonly inFlight = new Map<number, number>()
  private readonly sweeper: NodeJS.Timeout

  constructor(private readonly nc: NatsConnection, private readonly timeoutMs: number, private readonly sink: AckSink) {
    this.prefix = createInbox()
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, m) => { if (err === null) this.onReply(m) } })
    this.sweeper = setInterval(() => this.sweep(performance.now()), SWEEP_MS)
  }

  get size(): number { return this.inFlight.size }

  /** how long the oldest unacknowledged publish has waited (0 when none): the bus's current ack latency */
  oldestAgeMs(nowMs: number): number {
    for (const at of this.inFlight.values()) return nowMs - at
    return 0
  }

  /** `feed`: one string per feed, shared by its symbols (a header value, not a string built per event); null = none */
  publish(subject: string, data: Uint8Array, msgID: string, seq: number, feed: string | null = null): void {
    const h = headers()
    h.set(MSG_ID, msgID)
    // on every record, not only the symbol's first: a stream that outlived --bus-max-age-sec has lost that one, and an
    // edge started then learns the symbol from whichever of its records is left
    if (feed !== null) h.set(FEED_HEADER, feed)
    this.inFlight.set(seq, performance.now())
    try {
      this.nc.publish(subject, data, { reply: `${this.prefix}.${seq}`, headers: h })
    } catch { // the connection is closed (or closing): the same as a publish the stream never acknowledged
      this.inFlight.delete(seq)
      this.sink.failed(seq)
    }
  }

  private onReply(m: Msg): void {
    const seq = Number(m.subject.slice(this.prefix.length + 1))
    if (!this.inFlight.delete(seq)) return // timed out already: counted as failed and published again
    if (m.headers !== undefined && m.headers.code >= 400) { this.sink.failed(seq); return } // 503: no responders (no leader)
    let ack: { error?: unknown; duplicate?: boolean }
    try { ack = m.json() } catch { this.sink.failed(seq); return }
    if (ack.error !== undefined) this.sink.failed(seq)
    else this.sink.acked(seq, ack.duplicate === true)
  }

  private sweep(nowMs: number): void {
    for (const [seq, at] of this.inFlight) {
      if (nowMs - at < this.timeoutMs) break
      this.inFlight.delete(seq)
      this.sink.failed(seq)
    }
  }

  stop(): void {
    clearInterval(this.sweeper)
    this.sub.unsubscribe()
  }
}
