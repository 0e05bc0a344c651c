// Owns an edge node's input: seeds the ring from the last message per subject, then consumes the bus stream in order
// into this node's ring, keeping upstream n unchanged, and marks every symbol stale while the bus is unreachable. Must never renumber events or reorder a symbol's stream.
import { connect, consumerOpts } from 'nats'
import type { JetStreamSubscription, JsMsg, NatsConnection } from 'nats'
import { BootError } from '../errors.js'
import { MAX_FEEDS, NO_SYMBOL } from '../model/shared-symbols.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import { STALE_FEED_DOWN, STALE_FEED_GAP, STALE_NONE } from '../model/staleness.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import { KIND_BOOK, KIND_FRESH, KIND_QUOTE, KIND_STALE, KIND_SYMBOL, KIND_TRADE, LAST_DATA_KIND } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { newRecord, readRecord } from './bus-codec.js'
import type { BusLog } from './bus-publisher.js'
import { FEED_HEADER } from './publish-acks.js'

export class BusConsumeStats {
  consumed = 0
  /** records already applied (a publisher's re-send after a failure): dropped by n */
  duplicates = 0
  /** last stream sequence applied, and the stream's last sequence at the latest check: lag = their difference */
  streamSeq = 0
  streamLastSeq = 0
  connected = false
  /** messages the start-up seed applied: the last one per subject as of the stream's end then (not its history) */
  seeded = 0
  /** how long the seed took (ms), from subscribing to the stream's end as it was at start */
  seedMs = 0
  /** stale / fresh records that changed nothing (each hot-hot ingest node publishes the markers it makes itself) */
  markerRepeats = 0
  /**
   * symbols whose stream jumped past n + 1 after the seed (history expired while this edge was away): each is told
   * with a stale (feed_gap) marker before the record and a fresh one after, so clients resync instead of trusting n
   */
  gaps = 0
  /** records whose message id names another stream epoch than this edge's (BUS_EPOCH_MISMATCH): not applied */
  foreignEpoch = 0
  /**
   * stream messages never delivered here: the history behind each subject's last message the start-up seed passed
   * over (and any that expired before this edge read them). consumed + skipped = streamSeq
   */
  skipped = 0
}

/** Longest an edge waits at start for its seed before serving anyway (it keeps consuming either way). */
const SEED_TIMEOUT_MS = 60_000
const SOURCE_HEARTBEAT_MS = 1000
const MSG_ID_HEADER = 'Nats-Msg-Id'
/** lag is read every 500 ms; with no answer for this long, /readyz stops trusting the last reading */
const LAG_STALE_MS = 5000

export interface BusSourceOptions {
  servers: readonly string[]; stream: string; prefix: string
  /** --stream-epoch: records of another epoch (a later feed session on a stream that outlived this one) are refused; '' = not checked */
  epoch?: string
}

export class BusSource {
  readonly stats = new BusConsumeStats()
  private nc: NatsConnection | null = null
  private messages: JetStreamSubscription | null = null
  private readonly rec = newRecord()
  private pending = 0
  private stale = false
  private stopped = false
  private lagTimer: NodeJS.Timeout | null = null
  /** when the stream's last sequence was last read: lag from an old reading is not evidence of health */
  private lagCheckedAt = 0
  /** each symbol's stale reason as the stream last said it, kept while the bus is away */
  private beforeOutage: Uint8Array | null = null
  private readonly epochPrefix: string
  /** the stream's last sequence when the seed began: applying it (or nothing pending) ends the seed; 0 = seeded */
  private seedUntil = 0
  private seedDone: () => void = () => {}
  /** upstream feed name → this edge's feed index (SharedSymbols.owner), in the order first seen */
  private readonly feedIndex = new Map<string, number>()
  private readonly commitBound = (): void => { this.pending = 0; this.ring.commit() }

  constructor(private readonly ring: TickRing, private readonly symbols: SharedSymbols, private readonly seqs: SymbolSequences,
    private readonly opts: BusSourceOptions, private readonly log: BusLog) {
    this.epochPrefix = opts.epoch !== undefined && opts.epoch !== '' ? `${opts.epoch}:` : ''
  }

  async start(): Promise<void> {
    try {
      this.nc = await connect({ servers: [...this.opts.servers], name: 'tickcast-edge', maxReconnectAttempts: -1, reconnectTimeWait: 250 })
    } catch (e) { throw new BootError('BUS_UNAVAILABLE', `cannot reach the bus at ${this.opts.servers.join(',')}: ${String(e)}`) }
    this.stats.connected = true
    void this.watchStatus(this.nc)
    const jsm = await this.nc.jetstreamManager()
    let last: number
    try { last = (await jsm.streams.info(this.opts.stream)).state.last_seq } catch (e) { throw new BootError('BUS_STREAM_MISSING', `stream ${this.opts.stream}: ${String(e)}`) }
    // an ordered push consumer: in stream order, recreated from the last delivered sequence after any interruption
    // (nats-server 2.9 has no pull-based ordered consumers). It starts with the last message of every subject (a
    // symbol's last quote, trade, status, stale/fresh marker: its whole state, in stream order so n only rises), then
    // goes on with every message after: the edge's cache is seeded without replaying the retained history.
    const o = consumerOpts()
    o.orderedConsumer(); o.deliverLastPerSubject(); o.bindStream(this.opts.stream)
    // the client recreates the consumer after 2 missed heartbeats: 1 s (not the client's 5 s) so the loss of the NATS
    // node holding it (ordered consumers keep one replica) stalls the edge ~2 s, not ~10 s
    o.idleHeartbeat(SOURCE_HEARTBEAT_MS)
    const t0 = performance.now()
    const seeded = new Promise<void>((resolve) => { this.seedDone = resolve })
    // the seed's end is only known once the consumer exists (below): till then every record is a seed record
    this.seedUntil = Number.MAX_SAFE_INTEGER
    this.stats.streamLastSeq = last; this.lagCheckedAt = performance.now() // /readyz: not ready until the seed caught up
    this.messages = await this.nc.jetstream().subscribe(`${this.opts.prefix}.>`, o)
    void this.pump(this.messages)
    // the consumer takes the last message per subject as of its creation, not as of `last`: what was published in
    // between and is not its subject's last is passed over, a jump in n that is the seed's, not a gap. Its end is
    // the stream's end read now (every message past the creation is delivered, so ending later loses nothing)
    const created = (await jsm.streams.info(this.opts.stream)).state.last_seq
    if (this.seedUntil !== 0) {
      if (created === 0 || this.stats.streamSeq >= created) { this.seedUntil = 0; this.seedDone() } else this.seedUntil = created
    }
    if (this.seedUntil !== 0) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), SEED_TIMEOUT_MS) })
      if (await Promise.race([seeded.then(() => false), late])) this.log.warn({ stream: this.opts.stream, timeoutMs: SEED_TIMEOUT_MS }, 'bus seed not complete: serving while it goes on')
      clearTimeout(timer)
    }
    this.seedUntil = 0
    this.stats.seedMs = performance.now() - t0
    this.lagTimer = setInterval(() => { void this.checkLag() }, 500)
    this.log.info({ stream: this.opts.stream, servers: this.opts.servers }, 'consuming the bus')
  }

  /** Bus health for /readyz: connected and within `maxLag` messages of the stream's end. */
  health(maxLag: number): { ready: boolean; reason?: string } {
    if (!this.stats.connected) return { ready: false, reason: 'bus unreachable' }
    if (this.stats.foreignEpoch > 0) return { ready: false, reason: `the stream carries another epoch than ${this.opts.epoch ?? ''} (BUS_EPOCH_MISMATCH)` }
    if (performance.now() - this.lagCheckedAt > LAG_STALE_MS) return { ready: false, reason: 'bus lag unknown (stream info unanswered)' }
    const lag = this.stats.streamLastSeq - this.stats.streamSeq
    return lag > maxLag ? { ready: false, reason: `bus lag ${lag} messages` } : { ready: true }
  }

  private async checkLag(): Promise<void> {
    try {
      this.stats.streamLastSeq = (await (await this.nc!.jetstreamManager()).streams.info(this.opts.stream)).state.last_seq
      this.lagCheckedAt = performance.now()
    } catch { /* down or unanswered: health says so once the last reading is old */ }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') { this.stats.connected = false; this.busAway() }
      else if (s.type === 'reconnect') this.stats.connected = true // fresh again once the next record arrives
    }
  }

  private async pump(messages: JetStreamSubscription): Promise<void> {
    for await (const m of messages) {
      if (this.stopped) break
      if (m.seq > this.stats.streamSeq + 1) this.stats.skipped += m.seq - this.stats.streamSeq - 1
      this.stats.consumed++; this.stats.streamSeq = m.seq
      if (this.stale) this.busBack()
      this.apply(m.subject, m.data, m)
      if (this.seedUntil > 0) {
        this.stats.seeded++
        if (m.seq >= this.seedUntil || m.info.pending === 0) { this.seedUntil = 0; this.seedDone() }
      }
    }
  }

  /** One record into the ring: the symbol is learned (KIND_SYMBOL first), n is the upstream one. */
  private apply(subject: string, data: Uint8Array, m: JsMsg | null): void {
    const rec = readRecord(data, 0, this.rec), name = subject.slice(subject.indexOf('.', subject.indexOf('.', subject.indexOf('.') + 1) + 1) + 1)
    let id = this.symbols.idOf(name)
    if (id === NO_SYMBOL) {
      id = this.symbols.add(name, rec.px, rec.qx)
      if (id === NO_SYMBOL) return
      if (m !== null) this.own(id, m) // before its KIND_SYMBOL: readers learn the feed with the name
      this.write(KIND_SYMBOL, id, 0, 0)
    }
    if (rec.kind === KIND_SYMBOL) return
    const data_ = rec.kind <= LAST_DATA_KIND
    // where the numbering breaks (a repeat, a jump), a record of another stream epoch is the likely cause: checked
    // there only (its header is parsed then, not per record)
    const breaks = data_ && (rec.n <= this.seqs.next[id] || (this.seqs.next[id] > 0 && rec.n > this.seqs.next[id] + 1))
    if (breaks && m !== null && this.epochPrefix !== '' && this.foreign(m)) return
    if (data_ && rec.n <= this.seqs.next[id]) { this.stats.duplicates++; return }
    // a marker that changes nothing (both hot-hot ingest nodes saw the feed end: each published its own) is not news
    if ((rec.kind === KIND_STALE || rec.kind === KIND_FRESH) && (rec.kind === KIND_FRESH ? 0 : rec.code) === this.seqs.upstreamStale[id]) { this.stats.markerRepeats++; return }
    // the writer's word on the book, as the normalizer keeps it (a reader that jumps takes it): repeats are not news
    if (rec.kind === KIND_BOOK) { if (this.seqs.book[id] === rec.code) { this.stats.markerRepeats++; return } this.seqs.book[id] = rec.code }
    // past the seed, the stream holds every event of a symbol: a jump in n means history expired before this edge read it
    const gap = breaks && this.seedUntil === 0 && rec.n > this.seqs.next[id] + 1
    const upstream = this.seqs.upstreamStale[id]
    if (gap) { this.stats.gaps++; this.write(KIND_STALE, id, STALE_FEED_GAP, rec.timeUs) }
    const r = this.ring, i = r.nextSlot()
    r.kind[i] = rec.kind; r.code[i] = rec.code; r.symbolId[i] = id; r.symbolSeq[i] = rec.n
    r.exchTimeUs[i] = rec.timeUs; r.recvTimeMs[i] = performance.now()
    if (rec.kind === KIND_QUOTE) { r.bidPrice[i] = rec.a; r.bidSize[i] = rec.b; r.askPrice[i] = rec.c; r.askSize[i] = rec.d }
    else if (rec.kind === KIND_TRADE) { r.tradePrice[i] = rec.a; r.tradeSize[i] = rec.b; r.tradeId[i] = rec.c }
    // a book-state marker says nothing of staleness (KIND_BOOK: the order book's PARTIAL_* reason)
    if (data_) { this.seqs.next[id] = rec.n; this.seqs.lastRingSeq[id] = r.cursor + 1 } else if (rec.kind !== KIND_BOOK) this.seqs.upstreamStale[id] = rec.kind === KIND_STALE ? rec.code : 0
    r.advance()
    // the record is the symbol's state from here on: told of the gap, clients may trust it again, unless upstream
    // itself had the symbol stale (that state is restored)
    if (gap) this.write(upstream === STALE_NONE ? KIND_FRESH : KIND_STALE, id, upstream, rec.timeUs)
    this.scheduleCommit()
  }

  /**
   * The feed that owns a new symbol upstream (the Tickcast-Feed header, read once per symbol, not per record) becomes
   * its owner here, so snapshots, REST and MQTT on this edge name it as the ingest node's do.
   */
  private own(id: number, m: JsMsg): void {
    const feed = m.headers?.get(FEED_HEADER) ?? ''
    if (feed === '') return
    let index = this.feedIndex.get(feed)
    if (index === undefined) {
      if (this.feedIndex.size >= MAX_FEEDS) return
      index = this.feedIndex.size + 1
      try { this.symbols.setFeedName(index, feed) } catch { return } // not a feed name tickcast would configure: none
      this.feedIndex.set(feed, index)
    }
    this.symbols.owner[id] = index
  }

  private write(kind: number, id: number, code: number, timeUs: number): void {
    const r = this.ring, i = r.nextSlot()
    r.kind[i] = kind; r.code[i] = code; r.symbolId[i] = id; r.symbolSeq[i] = this.seqs.next[id]
    r.exchTimeUs[i] = timeUs; r.recvTimeMs[i] = performance.now()
    if (kind !== KIND_SYMBOL) this.seqs.upstreamStale[id] = code
    r.advance()
    this.scheduleCommit()
  }

  /** The bus went away: every symbol is told (stale, feed_down), in order with its data; what the stream said is kept. */
  private busAway(): void {
    if (!this.stale) this.beforeOutage = this.seqs.upstreamStale.slice(0, this.symbols.size)
    this.stale = true
    const now = Date.now() * 1000
    for (let id = 0; id < this.symbols.size; id++) if (this.seqs.upstreamStale[id] !== STALE_FEED_DOWN) this.write(KIND_STALE, id, STALE_FEED_DOWN, now)
  }

  /**
   * The bus is back (a record arrived): each symbol returns to what the stream last said of it, fresh or the ingest
   * node's own stale reason (a symbol upstream holds stale must not turn fresh because the edge reconnected).
   */
  private busBack(): void {
    const was = this.beforeOutage, now = Date.now() * 1000
    this.stale = false; this.beforeOutage = null
    for (let id = 0; id < this.symbols.size; id++) {
      const code = was !== null && id < was.length ? was[id] : STALE_NONE
      if (this.seqs.upstreamStale[id] !== code) this.write(code === STALE_NONE ? KIND_FRESH : KIND_STALE, id, code, now)
    }
  }

  /**
   * A record of another stream epoch: its n count another feed session, so applying it would drop the new session's
   * first events as duplicates of the old one's (or mix two numberings). Refused, counted, said once; /readyz fails.
   */
  private foreign(m: JsMsg): boolean {
    const id = m.headers?.get(MSG_ID_HEADER) ?? ''
    if (id === '' || id.startsWith(this.epochPrefix)) return false
    if (this.stats.foreignEpoch++ === 0) {
      this.log.warn({ code: 'BUS_EPOCH_MISMATCH', stream: this.opts.stream, epoch: this.opts.epoch, msgId: id.slice(0, 80) },
        'the bus stream carries events of another stream epoch: not applying them (restart the edges with the ingest nodes\' --stream-epoch)')
    }
    return true
  }

  private scheduleCommit(): void { if (this.pending++ === 0) setImmediate(this.commitBound) }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.lagTimer !== null) clearInterval(this.lagTimer)
    this.messages?.unsubscribe()
    await this.nc?.close()
  }
}
