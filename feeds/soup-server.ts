// Owns a SoupBinTCP 4.0 server session: recovery store, login/replay, coalesced live writes, heartbeats.
// Must never block on one client: slow readers pause and catch up from the store, or are dropped when they fall out.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { FRAMER_BAD_LENGTH, Framer } from '../src/feed/framer.js'
import {
  END_OF_SESSION_PACKET, LOGIN_ACCEPTED_BYTES, LOGIN_REJECTED_BYTES, LoginRequest, MAX_BODY_BYTES,
  PKT_LOGIN_REQUEST, PKT_LOGOUT_REQUEST, PKT_SEQUENCED, REJECT_NOT_AUTHORIZED, REJECT_SESSION_UNAVAILABLE,
  SERVER_HEARTBEAT_PACKET, parseLoginRequest, writeLoginAccepted, writeLoginRejected,
} from '../src/feed/soupbin.js'

export interface SoupServerOptions {
  host?: string
  port?: number
  /** up to 10 characters */
  sessionId?: string
  /** if set, logins must match (else Login Rejected 'A') */
  username?: string
  password?: string
  heartbeatIntervalMs?: number
  deadAfterMs?: number
  /** sequenced packets retained for replay; whole blocks of the oldest are dropped first */
  recoveryBytes?: number
  /** granularity of the store and of replay writes */
  blockBytes?: number
  /** a client whose socket buffer exceeds this stops receiving live data until 'drain' */
  clientBufferBytes?: number
}

/** Live data is written to clients once per event-loop turn, or as soon as this much is pending. */
const FLUSH_BYTES = 64 * 1024
/** clients only send Login (47), heartbeats, logout: anything bigger is a bad frame */
const CLIENT_MAX_BODY_BYTES = 1024
const MAX_PAYLOAD_BYTES = MAX_BODY_BYTES - 1

/** One store block: whole 'S' packets (length prefix included) back to back; never mutated once written. */
class Block {
  used = 0
  constructor(readonly buf: Buffer, readonly firstSeq: number) {}
}

class Client {
  readonly login = new LoginRequest()
  loggedIn = false
  /** next byte to send: absolute block number + offset, always on a packet boundary */
  blockNo = 0
  off = 0
  /** waiting for 'drain' before more data is written */
  paused = false
  sentEnd = false
  lastSentMs: number
  lastRecvMs: number
  framer: Framer | null = null
  constructor(readonly sock: net.Socket, now: number) { this.lastSentMs = now; this.lastRecvMs = now }
}

export class SoupServer {
  /** plain counters: what the server did (read by tests and by whoever embeds it) */
  readonly counters = { connections: 0, logins: 0, rejected: 0, slowDropped: 0, deadDropped: 0, badFrames: 0 }
  private readonly host: string
  private readonly port: number
  private readonly sessionId: string
  private readonly heartbeatIntervalMs: number
  private readonly deadAfterMs: number
  private readonly recoveryBytes: number
  private readonly blockBytes: number
  private readonly clientBufferBytes: number
  private readonly blocks: Block[] = []
  /** absolute number of blocks[0] */
  private baseBlockNo = 0
  private head: Block
  private retainedBytes = 0
  private seq = 1
  private pending = 0
  private flushScheduled = false
  private ended = false
  private readonly clients = new Set<Client>()
  private server: net.Server | null = null
  private ticker: NodeJS.Timeout | null = null
  private closing: Promise<void> | null = null

  constructor(private readonly opts: SoupServerOptions = {}) {
    this.host = opts.host ?? '127.0.0.1'
    this.port = opts.port ?? 0
    this.sessionId = (opts.sessionId ?? 'TICKCAST').slice(0, 10)
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1000
    this.deadAfterMs = opts.deadAfterMs ?? 15000
    this.recoveryBytes = opts.recoveryBytes ?? 64 * 1024 * 1024
    // ~8+ blocks per store so dropping the oldest block loses ≤ 1/8 of the history at once
    this.blockBytes = Math.max(64, opts.blockBytes ?? Math.max(4096, Math.min(1024 * 1024, Math.floor(this.recoveryBytes / 8))))
    this.clientBufferBytes = opts.clientBufferBytes ?? 8 * 1024 * 1024
    this.head = this.newBlock(0)
    this.flush = this.flush.bind(this)
    this.onTick = this.onTick.bind(this)
  }

  /** sequence number the next append will get */
  get nextSeq(): number { return this.seq }
  /** oldest sequence number still replayable */
  get oldestSeq(): number { return this.blocks[0].firstSeq }
  get clientCount(): number { return this.clients.size }
  get loggedInCount(): number { let n = 0; for (const c of this.clients) if (c.loggedIn) n++; return n }

  listen(): Promise<number> {
    const srv = net.createServer({ noDelay: true }, (sock) => this.accept(sock))
    this.server = srv
    this.ticker = setInterval(this.onTick, Math.max(5, Math.min(250, this.heartbeatIntervalMs / 4, this.deadAfterMs / 4)))
    this.ticker.unref() // the listening socket keeps the process alive, not the heartbeat timer
    return new Promise((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(this.port, this.host, () => {
        srv.removeListener('error', reject)
        resolve((srv.address() as net.AddressInfo).port)
      })
    })
  }

  /** Adds one sequenced message (copied into the store); returns its sequence number, or -1 after endSession/too long. */
  append(buf: Buffer, off: number, len: number): number {
    if (this.ended || len > MAX_PAYLOAD_BYTES) return -1
    const need = 3 + len
    let b = this.head
    if (b.used + need > b.buf.length) b = this.newBlock(need)
    const d = b.buf, p = b.used, l = len + 1
    d[p] = l >>> 8; d[p + 1] = l & 0xff; d[p + 2] = PKT_SEQUENCED
    buf.copy(d, p + 3, off, off + len) // measured: a byte loop for ≤ 32 B was no faster (18-24 vs 24-33 M appends/s)
    b.used = p + need
    this.pending += need
    if (this.pending >= FLUSH_BYTES) this.flush()
    else if (!this.flushScheduled) { this.flushScheduled = true; setImmediate(this.flush) }
    return this.seq++
  }

  /** Sends 'Z' to every client once it has everything; further appends are refused. */
  endSession(): void {
    if (this.ended) return
    this.ended = true
    this.flush()
  }

  /** Writes pending data to every logged-in client that is not paused on backpressure. */
  flush(): void {
    this.flushScheduled = false
    this.pending = 0
    const now = performance.now()
    for (const c of this.clients) if (c.loggedIn && !c.paused) this.pump(c, now)
  }

  close(): Promise<void> {
    if (this.closing) return this.closing
    if (this.ticker) { clearInterval(this.ticker); this.ticker = null }
    for (const c of this.clients) c.sock.destroy()
    this.clients.clear()
    const srv = this.server
    this.closing = new Promise((resolve) => { if (srv && srv.listening) srv.close(() => resolve()); else resolve() })
    return this.closing
  }

  private headNo(): number { return this.baseBlockNo + this.blocks.length - 1 }

  private newBlock(need: number): Block {
    const size = Math.max(this.blockBytes, need)
    // Caught-up clients must get the old head's tail before old blocks can go.
    if (this.retainedBytes + size > this.recoveryBytes && this.pending > 0) this.flush()
    const b = new Block(Buffer.allocUnsafe(size), this.seq)
    this.blocks.push(b)
    this.retainedBytes += size
    let dropped = false
    while (this.retainedBytes > this.recoveryBytes && this.blocks.length > 1) {
      this.retainedBytes -= this.blocks[0].buf.length
      this.blocks.shift() // rare: once per block
      this.baseBlockNo++
      dropped = true
    }
    this.head = b
    if (dropped) this.dropFallenOut()
    return b
  }

  /** A client (paused or replaying) whose next byte left the store can never be made whole: drop it. */
  private dropFallenOut(): void {
    for (const c of this.clients) {
      if (c.loggedIn && c.blockNo < this.baseBlockNo) { this.counters.slowDropped++; c.loggedIn = false; c.sock.destroy() }
    }
  }

  /** Writes a client everything from its position to the head, block by block, within its buffer limit. */
  private pump(c: Client, now: number): void {
    const sock = c.sock
    const headNo = this.headNo(), limit = this.clientBufferBytes
    let wrote = false
    sock.cork()
    for (;;) {
      const b = this.blocks[c.blockNo - this.baseBlockNo]
      if (c.off < b.used) { sock.write(b.buf.subarray(c.off, b.used)); c.off = b.used; wrote = true }
      if (c.blockNo === headNo) break
      if (sock.writableLength >= limit) break
      c.blockNo++; c.off = 0
    }
    if (this.ended && !c.sentEnd && c.blockNo === headNo && c.off === this.head.used) {
      sock.write(END_OF_SESSION_PACKET); c.sentEnd = true; wrote = true
    }
    sock.uncork()
    if (wrote) c.lastSentMs = now
    if (sock.writableLength >= limit) c.paused = true // resumes on 'drain'
  }

  private accept(sock: net.Socket): void {
    if (this.closing) { sock.destroy(); return }
    this.counters.connections++
    sock.setNoDelay(true)
    const c = new Client(sock, performance.now())
    c.framer = new Framer((buf, off, len) => this.onClientFrame(c, buf, off, len), CLIENT_MAX_BODY_BYTES)
    this.clients.add(c)
    sock.on('data', (chunk: Buffer) => {
      c.lastRecvMs = performance.now()
      if (c.framer!.push(chunk) === FRAMER_BAD_LENGTH) { this.counters.badFrames++; sock.destroy() }
    })
    sock.on('drain', () => { if (c.paused && c.loggedIn) { c.paused = false; this.pump(c, performance.now()) } })
    sock.on('error', () => { /* 'close' follows */ })
    sock.on('close', () => { c.loggedIn = false; this.clients.delete(c) })
  }

  private onClientFrame(c: Client, buf: Buffer, off: number, len: number): void {
    const type = buf[off]
    if (type === PKT_LOGIN_REQUEST) this.onLogin(c, buf, off, len)
    else if (type === PKT_LOGOUT_REQUEST) { c.loggedIn = false; c.sock.end() }
    // 'R' client heartbeat: lastRecvMs already refreshed; 'U' unsequenced: this server ignores it.
  }

  private onLogin(c: Client, buf: Buffer, off: number, len: number): void {
    const sock = c.sock, l = c.login
    if (c.loggedIn || !parseLoginRequest(buf, off, len, l)) { sock.destroy(); return }
    if (rejectLogin(sock, this.opts, l, this.sessionId)) { this.counters.rejected++; return }
    // 0 = live; older than the store = oldest retained (the client sees the gap); beyond the head = live.
    const req = l.requestedSeq, oldest = this.oldestSeq
    const start = req === 0 || req > this.seq ? this.seq : req < oldest ? oldest : req
    this.position(c, start)
    const a = Buffer.allocUnsafe(LOGIN_ACCEPTED_BYTES)
    writeLoginAccepted(a, 0, this.sessionId, start)
    sock.write(a)
    c.loggedIn = true
    this.counters.logins++
    this.pump(c, performance.now()) // replay now; live data follows on the next flush
  }

  /** Places a client on the packet boundary of `seq` (oldest ≤ seq ≤ next): walks at most one block. */
  private position(c: Client, seq: number): void {
    let i = this.blocks.length - 1
    while (i > 0 && this.blocks[i].firstSeq > seq) i--
    const b = this.blocks[i], d = b.buf
    let p = 0
    for (let s = b.firstSeq; s < seq; s++) p += 2 + ((d[p] << 8) | d[p + 1])
    c.blockNo = this.baseBlockNo + i; c.off = p
  }

  private onTick(): void {
    const now = performance.now()
    for (const c of this.clients) {
      if (now - c.lastRecvMs >= this.deadAfterMs) { this.counters.deadDropped++; c.sock.destroy(); continue }
      if (c.loggedIn && !c.paused && now - c.lastSentMs >= this.heartbeatIntervalMs) {
        c.sock.write(SERVER_HEARTBEAT_PACKET); c.lastSentMs = now
      }
    }
  }
}

/**
 * Answers a login that names the wrong credentials (A) or another session (S) with Login Rejected and ends the
 * socket; true when it did. Shared by the real-time and GLIMPSE servers, which check logins the same way.
 */
export function rejectLogin(sock: net.Socket, o: { username?: string; password?: string }, l: LoginRequest, sessionId: string): boolean {
  const reject = (o.username !== undefined && l.username !== o.username) || (o.password !== undefined && l.password !== o.password)
    ? REJECT_NOT_AUTHORIZED : l.session !== '' && l.session !== sessionId ? REJECT_SESSION_UNAVAILABLE : 0
  if (reject === 0) return false
  const r = Buffer.allocUnsafe(LOGIN_REJECTED_BYTES)
  writeLoginRejected(r, 0, reject)
  sock.end(r)
  return true
}
