// Owns a GLIMPSE 5.0 snapshot server for the feed tools: SoupBinTCP login, then the snapshot its owner computes at
// that instant as Sequenced Data, then End of Snapshot. Must never compute books itself (the owner's snapshot()
// does, synchronously, so the book and the resume sequence describe the same moment) nor serve real-time data.
import net from 'node:net'
import { FRAMER_BAD_LENGTH, Framer } from '../../src/feed/framer.js'
import { END_OF_SNAPSHOT_BYTES, writeEndOfSnapshot } from '../../src/feed/glimpse.js'
import {
  LOGIN_ACCEPTED_BYTES, LoginRequest, PKT_LOGIN_REQUEST, PKT_LOGOUT_REQUEST, parseLoginRequest, writeLoginAccepted,
  writeSequencedHeader,
} from '../../src/feed/soupbin.js'
import { rejectLogin } from '../soup-server.js'

/** The book at one instant: its ITCH messages and the real-time sequence that follows them. */
export interface GlimpseSnapshot {
  messages: readonly Buffer[]
  /** the next real-time sequence number: every real-time message below it is reflected in `messages` */
  nextSeq: number
}

export interface GlimpseServerOptions {
  host?: string
  port?: number
  /** the real-time session's id (≤ 10 characters): a login naming another session is rejected */
  sessionId?: string
  username?: string
  password?: string
  /** a client that neither logs in nor leaves is closed after this long */
  idleCloseMs?: number
}

const CLIENT_MAX_BODY_BYTES = 1024

export class GlimpseServer {
  readonly counters = { connections: 0, snapshots: 0, rejected: 0, badFrames: 0, messagesSent: 0 }
  private server: net.Server | null = null
  private readonly socks = new Set<net.Socket>()
  private readonly sessionId: string

  constructor(private readonly snapshot: () => GlimpseSnapshot, private readonly opts: GlimpseServerOptions = {}) {
    this.sessionId = (opts.sessionId ?? 'TICKCAST').slice(0, 10)
  }

  listen(): Promise<number> {
    const srv = net.createServer({ noDelay: true }, (sock) => this.accept(sock))
    this.server = srv
    return new Promise((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        srv.removeListener('error', reject)
        resolve((srv.address() as net.AddressInfo).port)
      })
    })
  }

  close(): Promise<void> {
    for (const s of this.socks) s.destroy()
    this.socks.clear()
    const srv = this.server
    this.server = null
    return new Promise((resolve) => { if (srv && srv.listening) srv.close(() => resolve()); else resolve() })
  }

  private accept(sock: net.Socket): void {
    this.counters.connections++
    this.socks.add(sock)
    const login = new LoginRequest()
    let served = false
    const idle = setTimeout(() => sock.destroy(), this.opts.idleCloseMs ?? 15_000)
    const framer = new Framer((buf, off, len) => {
      const type = buf[off]
      if (type === PKT_LOGOUT_REQUEST) { sock.end(); return }
      if (type !== PKT_LOGIN_REQUEST) return // client heartbeats
      if (served || !parseLoginRequest(buf, off, len, login)) { sock.destroy(); return }
      served = true
      if (rejectLogin(sock, this.opts, login, this.sessionId)) { this.counters.rejected++; return }
      this.serve(sock)
    }, CLIENT_MAX_BODY_BYTES)
    sock.on('data', (chunk: Buffer) => { if (framer.push(chunk) === FRAMER_BAD_LENGTH) { this.counters.badFrames++; sock.destroy() } })
    sock.on('error', () => { /* 'close' follows */ })
    sock.on('close', () => { clearTimeout(idle); this.socks.delete(sock) })
  }

  /** Login Accepted (the snapshot numbers its packets from 1), the snapshot, End of Snapshot: one buffer, one write. */
  private serve(sock: net.Socket): void {
    const snap = this.snapshot()
    let bytes = LOGIN_ACCEPTED_BYTES + 3 + END_OF_SNAPSHOT_BYTES
    for (const m of snap.messages) bytes += 3 + m.length
    const out = Buffer.allocUnsafe(bytes)
    let p = writeLoginAccepted(out, 0, this.sessionId, 1)
    for (const m of snap.messages) { p += writeSequencedHeader(out, p, m.length); p += m.copy(out, p) }
    p += writeSequencedHeader(out, p, END_OF_SNAPSHOT_BYTES)
    writeEndOfSnapshot(out, p, snap.nextSeq)
    sock.write(out)
    this.counters.snapshots++
    this.counters.messagesSent += snap.messages.length
  }
}
