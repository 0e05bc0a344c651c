// Owns an ingest node's output to the bus: reads the ring as its own consumer and publishes every event to JetStream
// with a message id derived from (stream epoch, symbol, kind, n), so hot-hot ingest nodes de-duplicate. A node that
// (re)starts mid-session replays the feed from its start (n is derived from it) and skips what the stream already holds.
// Must never slow the ingest: it reads behind the writer, bounded per turn; lapped events are counted, never waited for.
import { connect } from 'nats'
import type { NatsConnection } from 'nats'
import { BootError } from '../errors.js'
import { SymbolTable } from '../model/symbols.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import { KIND_SYMBOL, LAST_DATA_KIND } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { BUS_RECORD_BYTES, KIND_SUBJECTS, subjectOf, writeRecord } from './bus-codec.js'
import { readStoredState } from './bus-resume.js'
import type { StoredState } from './bus-resume.js'
import { ensureBusStream } from './bus-stream.js'
import type { BusStreamOptions } from './bus-stream.js'
import { PublishAcks } from './publish-acks.js'

export interface BusPublisherOptions extends BusStreamOptions {
  servers: readonly string[]
  /** the stream epoch (--stream-epoch): part of every message id, so ids never collide across feed sessions */
  epoch: string
  /** publishes awaiting their JetStream ack before this node stops reading the ring for a turn */
  maxInFlight?: number
  /** events read per turn */
  batch?: number
  pollMs?: number
  retryMs?: number
  /** a publish not acknowledged within this is failed and published again (default 2000) */
  ackTimeoutMs?: number
}

export class BusPublishStats {
  published = 0
  acked = 0
  /** acks that said duplicate: the other ingest node (or an earlier attempt) stored it first */
  duplicates = 0
  /** publishes that failed (bus down, timeout): re-published in order from the first of them */
  failures = 0
  /** events published again after a failure (rewound to the first failed one; the stream drops what it had by msg id) */
  resent = 0
  /** events the writer overwrote before this publisher read them (lost for the bus) */
  lapped = 0
  inFlight = 0
  /** turns with no publish because the oldest in-flight publish waited past a quarter of the ack timeout */
  heldTurns = 0
  connected = false
  /** events not published at (re)start: the stream already held them (same epoch, n at or below its last for the symbol) */
  resumeSkipped = 0
  /** symbols the stream held for this epoch when this node started */
  resumeSymbols = 0
  /**
   * 1 once this node's event with a symbol's stored n differed from the stream's record of it (BUS_SEQ_MISMATCH: its
   * feed replay numbers events otherwise, e.g. it missed the session's start): it publishes nothing from then on
   */
  resumeMismatch = 0
}

export interface BusLog { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }

export class BusPublisher {
  readonly stats = new BusPublishStats()
  private nc: NatsConnection | null = null
  private acks: PublishAcks | null = null
  private readonly symbols: SymbolTable
  private readSeq: number
  /** the first ring sequence a failed publish carried: reading rewinds there once nothing is in flight */
  private failedFrom = Infinity
  /** after a failure: one publish at a time until one is acknowledged, so the stream keeps ring order per symbol */
  private probing = false
  /** publishes allowed in flight now (adaptWindow), and when it was last halved (performance.now() ms) */
  private window = 2048
  private windowCutAt = 0
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  /**
   * By symbol id, from the stream at start: the last n it holds (events up to it are not published again; markers
   * below it neither), and 1 where its `sym` record is there. Names seen at start wait in `stored` until the ring names
   * their id. Stays all zero on a fresh stream.
   */
  private readonly storedN: Float64Array
  private readonly storedSym: Uint8Array
  private readonly storedRecord: Array<Uint8Array | undefined> = []
  private stored: StoredState | null = null
  private readonly scratch = Buffer.alloc(BUS_RECORD_BYTES)

  constructor(private readonly ring: TickRing, shared: SharedSymbols, private readonly opts: BusPublisherOptions, private readonly log: BusLog) {
    this.symbols = new SymbolTable(shared)
    this.readSeq = ring.cursor
    this.storedN = new Float64Array(shared.capacity)
    this.storedSym = new Uint8Array(shared.capacity)
  }

  async start(): Promise<void> {
    try {
      // noAsyncTraces: every js.publish is a request, and with traces on nats.js captures two stack traces per request
      // (its timeout's NatsError and the request's context): profiled, ~60 % of the publisher's CPU and most of its GC
      this.nc = await connect({ servers: [...this.opts.servers], name: 'tickcast-ingest', maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true })
    } catch (e) { throw new BootError('BUS_UNAVAILABLE', `cannot reach the bus at ${this.opts.servers.join(',')}: ${String(e)}`) }
    void (async () => {
      for await (const s of this.nc!.status()) {
        if (s.type === 'disconnect') this.stats.connected = false
        else if (s.type === 'reconnect') this.stats.connected = true
      }
    })()
    await ensureBusStream(await this.nc.jetstreamManager(), this.opts)
    const stored = await readStoredState(this.nc, this.opts.name, this.opts.prefix, this.opts.epoch)
    if (stored.lastN.size > 0 || stored.symbols.size > 0) {
      this.stored = stored
      this.stats.resumeSymbols = stored.lastN.size
      this.log.info({ stream: this.opts.name, symbols: stored.lastN.size, epoch: this.opts.epoch },
        'the stream holds this session already: publishing only past its last n per symbol')
    }
    const st = this.stats
    this.acks = new PublishAcks(this.nc, this.opts.ackTimeoutMs ?? 2000, {
      acked: (_seq, duplicate) => { st.inFlight--; st.acked++; this.probing = false; if (duplicate) st.duplicates++ },
      failed: (seq) => { st.inFlight--; st.failures++; if (seq < this.failedFrom) this.failedFrom = seq },
    })
    this.stats.connected = true
    this.timer = setInterval(() => this.pump(), this.opts.pollMs ?? 2)
    this.log.info({ stream: this.opts.name, servers: this.opts.servers }, 'publishing to the bus')
  }

  /** One bounded turn: publish what the ring holds past readSeq, unless too much awaits its ack. */
  pump(): void {
    const acks = this.acks, r = this.ring, st = this.stats
    if (acks === null || this.stopped || !st.connected || st.resumeMismatch !== 0) return // while disconnected nothing new is queued behind failures
    if (this.failedFrom !== Infinity) {
      if (st.inFlight > 0) return
      st.resent += this.readSeq - (this.failedFrom - 1) // bus-ops: counted for tickcast_bus_publish_resent_events_total
      this.readSeq = this.failedFrom - 1; this.failedFrom = Infinity // the bus drops what it stored already (msg id)
      this.probing = true
    }
    const end = r.cursor
    if (end - this.readSeq > r.capacity) { st.lapped += end - r.capacity - this.readSeq; this.readSeq = end - r.capacity }
    const maxInFlight = this.probing ? 1 : this.adaptWindow(acks)
    if (st.inFlight >= maxInFlight) { st.heldTurns++; return }
    // a turn publishes at most `batch` events; skipping what the stream holds is cheap and not counted (a restarted
    // node replays the session as fast as the feed sends it: it must not lap this reader over events it skips)
    let budget = this.opts.batch ?? 8192
    for (let seq = this.readSeq + 1; seq <= end && budget > 0 && st.inFlight < maxInFlight; seq++) {
      const i = seq & r.mask, id = r.symbolId[i], kind = r.kind[i]
      if (id >= this.symbols.size) this.learnUpTo(id)
      const name = this.symbols.name[id], n = r.symbolSeq[i]
      // what the stream holds already (this node restarted mid-session): a data event at or below the stream's last n
      // for the symbol, a marker below it, a symbol record it has
      if (kind === KIND_SYMBOL ? this.storedSym[id] === 1 : kind <= LAST_DATA_KIND ? n <= this.storedN[id] : n < this.storedN[id]) {
        if (n === this.storedN[id] && kind <= LAST_DATA_KIND && !this.sameAsStored(i, id, name, n)) return
        st.resumeSkipped++; this.readSeq = seq; continue
      }
      const buf = Buffer.allocUnsafe(BUS_RECORD_BYTES)
      writeRecord(r, i, this.symbols.priceExponent[id], this.symbols.sizeExponent[id], buf, 0)
      // markers take no n of their own: a symbol may go stale, fresh and stale again at one n, so their id also names
      // when the marker was made (a ring slot's own value: a re-send after a failure repeats the id)
      const msgID = kind === KIND_SYMBOL ? `${this.opts.epoch}:${name}:sym`
        : kind <= LAST_DATA_KIND ? `${this.opts.epoch}:${name}:${KIND_SUBJECTS[kind]}:${n}:${r.code[i]}`
          : `${this.opts.epoch}:${name}:${KIND_SUBJECTS[kind]}:${n}:${r.code[i]}:${r.exchTimeUs[i]}`
      st.published++; st.inFlight++; budget--
      acks.publish(subjectOf(this.opts.prefix, kind, name), buf, msgID, seq, this.symbols.feed[id])
      this.readSeq = seq
    }
  }

  /**
   * The in-flight window, by the oldest unacknowledged publish's age (delay-based, like TCP's): a bus slower than the
   * feed makes acks lag, and a fixed window of 20,000 at ~10,000 acks/s timed out whole and fell back to one publish
   * at a time (measured: ~1,200 events/s at 20,000/s offered). Halved (at most once per quarter timeout) while the
   * oldest waits past a quarter of the timeout, grown while acks come back within a twentieth of it; what the window
   * holds back waits in the ring (lapped and counted if the bus stays slower than the feed).
   */
  private adaptWindow(acks: PublishAcks): number {
    const max = this.opts.maxInFlight ?? 20_000, timeoutMs = this.opts.ackTimeoutMs ?? 2000
    const now = performance.now(), age = this.stats.inFlight > 0 ? acks.oldestAgeMs(now) : 0
    if (age > timeoutMs / 4) {
      if (now - this.windowCutAt > timeoutMs / 4) { this.window = Math.max(64, this.window >> 1); this.windowCutAt = now }
    } else if (age < timeoutMs / 20 && this.stats.inFlight >= this.window >> 1) this.window = Math.min(max, this.window + 128)
    return Math.min(this.window, max)
  }

  /**
   * Publishing health for an ingest node's /readyz: connected, its publishes acknowledged (none failed or timed out
   * since the last ack) and at most `maxBacklog` events read from the ring but not yet stored by the stream.
   */
  health(maxBacklog: number): { ready: boolean; reason?: string } {
    const st = this.stats
    if (st.resumeMismatch !== 0) return { ready: false, reason: 'bus publish stopped: this node numbers the feed otherwise than the stream (BUS_SEQ_MISMATCH)' }
    if (!st.connected) return { ready: false, reason: 'bus unreachable' }
    if (this.probing || this.failedFrom !== Infinity) return { ready: false, reason: 'bus publishes failing (acks timing out or refused)' }
    const backlog = this.ring.cursor - this.readSeq + st.inFlight
    return backlog > maxBacklog ? { ready: false, reason: `bus publish backlog ${backlog} events` } : { ready: true }
  }

  /** Learns new symbols from the shared store, with what the stream held for each at start. */
  private learnUpTo(id: number): void {
    const from = this.symbols.size
    this.symbols.learnUpTo(id)
    const stored = this.stored
    if (stored === null) return
    for (let k = from; k < this.symbols.size; k++) {
      const name = this.symbols.name[k]
      this.storedN[k] = stored.lastN.get(name) ?? 0
      this.storedSym[k] = stored.symbols.has(name) ? 1 : 0
      this.storedRecord[k] = stored.lastRecord.get(name)
    }
  }

  /**
   * The stream's last record of a symbol against this node's event of the same n: the same feed numbered alike gives
   * the same bytes. Otherwise this node's n are not the stream's (publishing them would mix two numberings under one
   * epoch): it stops publishing, says so, and the stream keeps what its partner sends.
   */
  private sameAsStored(i: number, id: number, name: string, n: number): boolean {
    const want = this.storedRecord[id]
    if (want === undefined) return true
    writeRecord(this.ring, i, this.symbols.priceExponent[id], this.symbols.sizeExponent[id], this.scratch, 0)
    if (this.scratch.equals(want)) { this.storedRecord[id] = undefined; return true }
    this.stats.resumeMismatch = 1
    this.log.warn({ code: 'BUS_SEQ_MISMATCH', symbol: name, n, stream: this.opts.name, epoch: this.opts.epoch },
      'this node numbers the feed otherwise than the stream holds it (did its feed replay start mid-session?): not publishing')
    return false
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    const deadline = Date.now() + 2000
    while (this.stats.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    this.acks?.stop()
    await this.nc?.close()
  }
}
