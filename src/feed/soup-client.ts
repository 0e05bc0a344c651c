// Owns one SoupBinTCP 4.0 feed line: connect, login, heartbeats, dead-link detection, gap-free resume, reconnect.
// Must never decode payloads or touch sinks beyond SessionSink, and never allocate per sequenced message.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FeedStats } from './feed-stats.js'
import { FRAMER_BAD_LENGTH, Framer } from './framer.js'
import { SESSION_CONNECTED, SESSION_DISCONNECTED, SESSION_END, SESSION_GAP, SESSION_LOGGED_IN } from './session-sink.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import {
  CLIENT_HEARTBEAT_PACKET, LOGOUT_REQUEST_PACKET, LOGIN_REQUEST_BYTES, PKT_END_OF_SESSION,
  PKT_LOGIN_ACCEPTED, PKT_LOGIN_REJECTED, PKT_SEQUENCED, SERVER_PACKET_LENGTHS, acceptedSeq, rejectReason, writeLoginRequest,
} from './soupbin.js'
import { resolveSoupOptions, tickPeriodMs } from './soup-options.js'
import type { ResolvedSoupOptions, SoupClientOptions } from './soup-options.js'

export type { ResumeFrom, SoupClientOptions } from './soup-options.js'

/** private twin of PKT_SEQUENCED for the per-message path: an imported binding is re-read from its module cell per use */
const SEQUENCED = PKT_SEQUENCED
const ST_IDLE = 0, ST_CONNECTING = 1, ST_LOGGING_IN = 2, ST_LOGGED_IN = 3, ST_BACKOFF = 4
/** terminal: stop() was called or the server ended the session */
const ST_STOPPED = 5
const STOP_GRACE_MS = 500
/**
 * Socket reads land in one reusable buffer (net `onread`) instead of a fresh 64 KiB Buffer per read: no
 * allocation per chunk, and 4× fewer reads at full rate. Frames are views into it only during the sink call;
 * the framer copies a split frame into its carry buffer before the next read overwrites it.
 */
const READ_BUFFER_BYTES = 256 * 1024
/**
 * After this many bytes in one go the session pauses its socket until the next event-loop turn, so the
 * fan-out drains the ring in between. Without it libuv kept reading a fast feed and the dispatcher was
 * lapped (bench:ingest lost 2.9 M of 5 M events); with it the feed is held back by TCP, and its
 * SoupBinTCP server buffers, instead of tickcast dropping data. 1 MiB ≈ 20,000 native quotes per turn.
 */
const YIELD_AFTER_BYTES = 1024 * 1024

/**
 * End of Session ('Z') is terminal for this client: SoupBinTCP sessions are one trading day, so reconnecting
 * to the same session would only replay it. The client emits SESSION_END and stops; the operator (or config
 * reload) starts a new SoupClient for the next session. Login Rejected is NOT terminal: credentials may be
 * fixed server-side, so the client backs off and retries, emitting SESSION_DISCONNECTED with the reason.
 */
export class SoupClient {
  readonly name: string
  private readonly opts: ResolvedSoupOptions
  private readonly framer: Framer
  private socket: net.Socket | null = null
  private state = ST_IDLE
  /** sequence number of the next 'S' packet on this connection (implicit numbering from Login Accepted) */
  private recvSeq = 0
  /** the sequence we asked for at the current login (0 = live) */
  private requestedSeq = 0
  /** The session's resume point: the next sequence owed to the sink. Earlier sequences are replay overlap; the
   * next login asks for this one (through resumeFrom). 0 = live start, not logged in yet. */
  private nextSeq: number
  private attempts = 0
  /** why the last connection attempt or connection ended, and the backoff chosen after it (read by RetryWarnings) */
  private lastFailure = ''
  /** The socket error of the attempt in progress, apart from lastFailure, which keeps the previous attempt's reason
   * while this one runs: RetryWarnings may read it then (under load the window is wide: the warning said ''). */
  private attemptError = ''
  private lastBackoffMs = 0; private everConnected = false
  private lastSentMs = 0; private lastRecvMs = 0; private connectStartMs = 0
  private ticker: NodeJS.Timeout | null = null; private backoffTimer: NodeJS.Timeout | null = null
  private stopping: Promise<void> | null = null; private readonly tickMs: number
  /** largest plausible Sequenced Data length field (type byte + the payload protocol's largest message) */
  private readonly maxSequencedLen: number
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
  private bytesSinceYield = 0
  /** connections in a row that ended on a bad frame: a feed that keeps sending garbage backs off like a refused one */
  private garbage = 0

  constructor(opts: SoupClientOptions, private readonly sink: SessionSink, readonly stats: FeedStats,
    private readonly onEvent: (ev: SessionEvent) => void = () => {}) {
    this.name = opts.name
    this.opts = resolveSoupOptions(opts)
    this.nextSeq = this.opts.startSeq
    stats.nextSeqGauge = this.nextSeq
    this.framer = new Framer(this.onFrame.bind(this), this.opts.maxFrameBytes, sink.take !== undefined ? this.onRun.bind(this) : null)
    this.tickMs = tickPeriodMs(this.opts)
    this.maxSequencedLen = this.opts.maxMessageBytes + 1
    this.onData = this.onData.bind(this)
    this.onRead = this.onRead.bind(this)
    this.resumeRead = this.resumeRead.bind(this)
    this.onTick = this.onTick.bind(this)
    this.connect = this.connect.bind(this)
  }

  get loggedIn(): boolean { return this.state === ST_LOGGED_IN }

  /** Failed attempts since the last login, why the last one failed, and the delay before the next (for logs). */
  get retryState(): { host: string; port: number; attempts: number; lastFailure: string; backoffMs: number } {
    return { host: this.opts.host, port: this.opts.port, attempts: this.attempts, lastFailure: this.lastFailure, backoffMs: this.lastBackoffMs }
  }

  /** The next sequence owed to the sink: where this line resumes (0 = live start, not logged in yet). */
  get nextExpectedSeq(): number { return this.nextSeq }

  start(): void {
    if (this.state !== ST_IDLE) return
    this.ticker = setInterval(this.onTick, this.tickMs)
    this.connect()
  }

  /** Idempotent: sends Logout if logged in, then frees the socket and the timers. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping
    const sock = this.socket, wasLoggedIn = this.state === ST_LOGGED_IN
    this.state = ST_STOPPED
    this.clearTimers()
    this.framer.reset() // stop handing out the rest of a chunk (stop() may run inside a frame handler)
    this.socket = null
    this.stats.connected = 0; this.stats.loggedIn = 0
    this.stopping = new Promise<void>((resolve) => {
      if (!sock || sock.destroyed) { resolve(); return }
      const t = setTimeout(() => sock.destroy(), STOP_GRACE_MS)
      sock.once('close', () => { clearTimeout(t); resolve() })
      if (wasLoggedIn && sock.writable) sock.end(LOGOUT_REQUEST_PACKET)
      else sock.destroy()
    })
    return this.stopping
  }

  private connect(): void {
    this.backoffTimer = null
    if (this.state === ST_STOPPED) return
    if (this.everConnected) this.stats.reconnects++
    this.everConnected = true
    this.attemptError = ''
    this.state = ST_CONNECTING
    this.connectStartMs = performance.now()
    this.framer.reset()
    const sock = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true, onread: { buffer: this.readBuffer, callback: this.onRead } })
    this.socket = sock
    // Per-connection closures (rare); the per-chunk path uses the bound onRead.
    sock.on('connect', () => this.onConnect(sock))
    sock.on('error', (e) => { this.attemptError = e.message /* 'close' follows and drives reconnect */ })
    sock.on('close', () => this.lost(sock, 'closed'))
  }

  private onConnect(sock: net.Socket): void {
    if (sock !== this.socket) return
    sock.setNoDelay(true)
    this.state = ST_LOGGING_IN
    this.stats.connected = 1
    this.lastRecvMs = performance.now() // the login answer is due within deadAfterMs
    this.emit(SESSION_CONNECTED, 0, 0, '')
    if (this.opts.resumeFrom !== null) this.moveTo(this.opts.resumeFrom(this.nextSeq))
    const login = Buffer.allocUnsafe(LOGIN_REQUEST_BYTES) // one per login, never reused while in flight
    this.requestedSeq = this.nextSeq
    writeLoginRequest(login, 0, this.opts.username, this.opts.password, this.opts.session, this.requestedSeq)
    this.send(login)
  }

  private send(b: Buffer): void {
    this.socket?.write(b)
    this.lastSentMs = performance.now()
  }

  private onRead(bytes: number, _buf: Uint8Array): boolean {
    if (this.socket === null) return false // an old connection after stop()/lost(): ignore it
    this.onData(this.readBuffer.subarray(0, bytes))
    if ((this.bytesSinceYield += bytes) < YIELD_AFTER_BYTES) return true
    this.bytesSinceYield = 0
    setImmediate(this.resumeRead) // queued after the dispatcher's drain
    return false // pauses the socket
  }

  private resumeRead(): void { if (this.socket !== null) this.socket.resume() }

  private onData(chunk: Buffer): void {
    const now = performance.now(), s = this.stats
    this.lastRecvMs = now; s.lastReceiveMs = now; s.bytes += chunk.length
    this.sink.beginBatch(now)
    const st = this.framer.push(chunk)
    this.sink.endBatch()
    if (st === FRAMER_BAD_LENGTH) this.badFrame('length field 0 or over ' + this.opts.maxFrameBytes)
  }

  /** A run of Sequenced Data the sink takes at once (SessionSink.take): logged in, live, no replay overlap to skip. */
  private onRun(buf: Buffer, off: number, end: number): number {
    if (this.state !== ST_LOGGED_IN || this.recvSeq !== this.nextSeq) return off
    const sink = this.sink as Required<SessionSink>, to = sink.take(buf, off, end, this.maxSequencedLen), n = sink.taken
    if (n > 0) { const s = this.stats; this.recvSeq += n; this.nextSeq = s.nextSeqGauge = this.recvSeq; s.messages += n }
    return to
  }

  /** One SoupBinTCP packet: buf[off] is the type byte, len = type + payload. */
  private onFrame(buf: Buffer, off: number, len: number): void {
    const type = buf[off]
    if (type === SEQUENCED) {
      if (len < 2 || len > this.maxSequencedLen) { this.badFrame('sequenced data of ' + (len - 1) + ' bytes'); return }
      if (this.state !== ST_LOGGED_IN) { this.protocolError('S before login'); return }
      const seq = this.recvSeq++, s = this.stats
      if (seq < this.nextSeq) { s.duplicates++; return } // replay overlap: already delivered
      this.nextSeq = s.nextSeqGauge = seq + 1; s.messages++
      this.sink.message(buf, off + 1, len - 1, seq)
      return
    }
    const want = SERVER_PACKET_LENGTHS[type]
    if (want < 0 || (want > 0 && len !== want)) { this.badFrame('packet type 0x' + type.toString(16) + ' with length ' + len); return }
    if (type === PKT_LOGIN_ACCEPTED) this.onAccepted(acceptedSeq(buf, off, len))
    else if (type === PKT_LOGIN_REJECTED) this.onRejected(rejectReason(buf, off, len))
    else if (type === PKT_END_OF_SESSION) this.onEndOfSession()
    // 'H' heartbeat, '+' debug, 'U' unsequenced: receipt already refreshed lastRecvMs; nothing else to do.
  }

  private onAccepted(seq: number): void {
    if (this.state !== ST_LOGGING_IN || seq < 1) { this.protocolError('bad login accepted'); return }
    const s = this.stats
    this.state = ST_LOGGED_IN
    this.attempts = 0
    this.recvSeq = seq
    s.loggedIn = 1
    this.emit(SESSION_LOGGED_IN, seq, 0, '')
    // The server starts after what we asked for: those messages are gone (outside its recovery store).
    if (this.requestedSeq > 0 && seq > this.nextSeq) {
      const from = this.nextSeq, count = seq - from
      s.gaps++; s.missed += count; this.moveTo(seq)
      this.emit(SESSION_GAP, from, count, 'server recovery starts at ' + seq)
    } else if (this.requestedSeq === 0) this.moveTo(seq) // live start: nothing was asked for, nothing missed
  }

  private onRejected(reason: number): void {
    const why = reason === 0x41 ? 'not authorized' : reason === 0x53 ? 'session not available' : 'unknown'
    this.drop('login rejected: ' + why + ' (' + String.fromCharCode(reason < 0 ? 0x3f : reason) + ')')
  }

  private onEndOfSession(): void {
    this.stats.endOfSession++
    this.emit(SESSION_END, this.nextSeq, 0, 'end of session')
    void this.stop()
  }

  /** Moves the resume point (login, gap, live start); the gauge follows, never the other way round. */
  private moveTo(seq: number): void { this.nextSeq = this.stats.nextSeqGauge = seq }

  private protocolError(why: string): void { this.drop('protocol error: ' + why) }

  /** An implausible frame: the stream cannot be trusted past it. Counted; reconnect and log in again at last + 1. */
  private badFrame(why: string): void {
    this.stats.badFrames++; this.garbage++; this.stats.badFrameStreak = this.garbage
    this.drop('bad frame: ' + why)
  }

  /** Tear down the current connection (partial frame discarded) and schedule a reconnect. */
  private drop(reason: string): void {
    const sock = this.socket
    if (!sock) return
    this.framer.reset()
    sock.destroy()
    this.lost(sock, reason)
  }

  private lost(sock: net.Socket, reason: string): void {
    if (sock !== this.socket) return // an old connection closing late
    this.socket = null // onRead ignores whatever the old socket still reads
    const wasConnected = this.stats.connected === 1
    this.stats.connected = 0; this.stats.loggedIn = 0
    if (this.state === ST_STOPPED) return
    if (wasConnected) this.emit(SESSION_DISCONNECTED, this.nextSeq, 0, reason)
    // a plain close says least: the socket's error, when there was one, says why
    this.lastFailure = reason !== 'closed' || this.attemptError === '' ? reason : this.attemptError
    this.state = ST_BACKOFF
    if (!reason.startsWith('bad frame')) this.garbage = this.stats.badFrameStreak = 0
    // Capped exponential backoff with full jitter: spreads a herd of feed lines after a venue restart. A login resets
    // `attempts`, so a feed that logs in and then sends garbage backs off by its garbage streak instead.
    const cap = Math.min(this.opts.backoffMaxMs, this.opts.backoffMinMs * 2 ** Math.min(Math.max(this.attempts, this.garbage), 30))
    this.attempts++
    this.lastBackoffMs = Math.round(Math.random() * cap)
    this.backoffTimer = setTimeout(this.connect, this.lastBackoffMs)
  }

  private onTick(): void {
    const sock = this.socket
    if (!sock) return
    const now = performance.now(), o = this.opts
    if (this.state === ST_CONNECTING) {
      if (now - this.connectStartMs >= o.connectTimeoutMs) this.drop('connect timeout')
      return
    }
    if (now - this.lastRecvMs >= o.deadAfterMs) {
      this.stats.heartbeatTimeouts++
      this.drop('dead link: nothing received for ' + Math.round(now - this.lastRecvMs) + ' ms')
      return
    }
    if (this.state === ST_LOGGED_IN && now - this.lastSentMs >= o.heartbeatIntervalMs) this.send(CLIENT_HEARTBEAT_PACKET)
  }

  private clearTimers(): void {
    if (this.ticker) { clearInterval(this.ticker); this.ticker = null }
    if (this.backoffTimer) { clearTimeout(this.backoffTimer); this.backoffTimer = null }
  }

  private emit(kind: SessionEvent['kind'], fromSeq: number, count: number, reason: string): void {
    this.onEvent({ kind, feed: this.name, fromSeq, count, reason })
  }
}
