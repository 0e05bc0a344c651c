// Owns one Nasdaq GLIMPSE 5.0 snapshot session: connect, log in, hand every snapshot ITCH message to a sink, read the
// End of Snapshot resume sequence, log out. Must never decode ITCH nor touch books: the caller's sink does.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { FRAMER_BAD_LENGTH, Framer } from './framer.js'
import { endOfSnapshotSeq } from './glimpse.js'
import type { SessionSink } from './session-sink.js'
import {
  CLIENT_HEARTBEAT_PACKET, LOGIN_REQUEST_BYTES, LOGOUT_REQUEST_PACKET, PKT_END_OF_SESSION, PKT_LOGIN_ACCEPTED,
  PKT_LOGIN_REJECTED, PKT_SEQUENCED, rejectReason, writeLoginRequest,
} from './soupbin.js'

/** A GLIMPSE payload is one ITCH 5.0 message (≤ 50 bytes) or End of Snapshot (21): anything longer is corruption. */
const MAX_ITCH_SNAPSHOT_PAYLOAD = 64

export interface SnapshotOptions {
  host: string
  port: number
  username: string
  password: string
  /** blank = the server's current session */
  session?: string
  heartbeatIntervalMs?: number
  /** nothing received this long (connect included): the snapshot fails */
  deadAfterMs?: number
  /** longest plausible snapshot message (default 64: ITCH); a native snapshot session passes the protocol's own */
  maxMessageBytes?: number
}

export interface SnapshotResult {
  /** the real-time sequence to log in at: every message below it is in the snapshot */
  nextSeq: number
  /** ITCH messages the snapshot held (handed to the sink) */
  messages: number
}

/** A snapshot that did not complete; `reason` is stable text for logs ("login rejected: A", "closed before End of Snapshot"…). */
export class SnapshotFailed extends Error {
  constructor(readonly reason: string, readonly messages: number) {
    super('GLIMPSE snapshot failed: ' + reason)
    this.name = 'SnapshotFailed'
  }
}

/**
 * Takes one snapshot. Messages reach `sink` as they arrive (one batch per TCP chunk, seq = their position in the
 * snapshot from 1); the caller clears its books before calling and treats them as incomplete if this rejects.
 * Resolves once End of Snapshot arrived (the session is logged out and closed behind it).
 */
export function takeSnapshot(opts: SnapshotOptions, sink: SessionSink, signal?: AbortSignal): Promise<SnapshotResult> {
  const heartbeatMs = opts.heartbeatIntervalMs ?? 1000, deadMs = opts.deadAfterMs ?? 15_000
  const maxPayload = Math.max(opts.maxMessageBytes ?? MAX_ITCH_SNAPSHOT_PAYLOAD, 21) // End of Snapshot always fits
  return new Promise<SnapshotResult>((resolve, reject) => {
    let loggedIn = false, done = false, messages = 0, lastRecv = performance.now(), lastSent = lastRecv
    const sock = net.connect({ host: opts.host, port: opts.port, noDelay: true })
    const finish = (err: SnapshotFailed | null, nextSeq = 0): void => {
      if (done) return
      done = true
      clearInterval(ticker)
      signal?.removeEventListener('abort', onAbort)
      framer.reset() // nothing after End of Snapshot (or a failure) reaches the sink
      if (err) { sock.destroy(); reject(err); return }
      if (sock.writable) sock.end(LOGOUT_REQUEST_PACKET); else sock.destroy()
      resolve({ nextSeq, messages })
    }
    const onFrame = (buf: Buffer, off: number, len: number): void => {
      const type = buf[off]
      if (type === PKT_SEQUENCED) {
        if (!loggedIn) { finish(new SnapshotFailed('sequenced data before login', messages)); return }
        if (len - 1 > maxPayload) { finish(new SnapshotFailed(`implausible ${len - 1}-byte message`, messages)); return }
        const next = endOfSnapshotSeq(buf, off + 1, len - 1)
        if (next > 0) { finish(null, next); return }
        sink.message(buf, off + 1, len - 1, ++messages)
      } else if (type === PKT_LOGIN_ACCEPTED) loggedIn = true
      else if (type === PKT_LOGIN_REJECTED) finish(new SnapshotFailed('login rejected: ' + String.fromCharCode(rejectReason(buf, off, len)), messages))
      else if (type === PKT_END_OF_SESSION) finish(new SnapshotFailed('end of session before End of Snapshot', messages))
      // 'H' heartbeat, '+' debug: receipt already counted as life
    }
    const framer = new Framer(onFrame)
    const ticker = setInterval(() => {
      const now = performance.now()
      if (now - lastRecv >= deadMs) { finish(new SnapshotFailed(`nothing received for ${Math.round(now - lastRecv)} ms`, messages)); return }
      if (loggedIn && now - lastSent >= heartbeatMs) { sock.write(CLIENT_HEARTBEAT_PACKET); lastSent = now }
    }, Math.max(5, Math.min(250, heartbeatMs / 4, deadMs / 4)))
    sock.on('connect', () => {
      const login = Buffer.allocUnsafe(LOGIN_REQUEST_BYTES)
      writeLoginRequest(login, 0, opts.username, opts.password, opts.session ?? '', 1)
      sock.write(login); lastSent = lastRecv = performance.now()
    })
    sock.on('data', (chunk: Buffer) => {
      lastRecv = performance.now()
      sink.beginBatch(lastRecv)
      const st = framer.push(chunk)
      sink.endBatch()
      if (st === FRAMER_BAD_LENGTH) finish(new SnapshotFailed('bad frame length', messages))
    })
    const onAbort = (): void => finish(new SnapshotFailed('aborted', messages))
    if (signal?.aborted) queueMicrotask(onAbort); else signal?.addEventListener('abort', onAbort, { once: true })
    sock.on('error', (e) => finish(new SnapshotFailed('socket: ' + e.message, messages)))
    sock.on('close', () => finish(new SnapshotFailed('closed before End of Snapshot', messages)))
  })
}
