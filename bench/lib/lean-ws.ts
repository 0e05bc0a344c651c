// Owns a lean WebSocket client on node:net for load generation: upgrade handshake, frame parsing, masked sends.
// Must never allocate per frame or per TCP read on the receive path: reads land in one buffer per process (node:net
// `onread`), and only a frame split across TCP reads is copied, into the connection's carry.
import { randomBytes } from 'node:crypto'
import net from 'node:net'

/**
 * Server → client frame (RFC 6455, never masked by a server), big-endian lengths:
 * 0        1        2                 2/4/10
 * | FIN op | len7   | [len16 | len64] | payload
 * Measured against the `ws` package here: `ws` spends ~3× the CPU per frame (a Buffer and an event per
 * message, UTF-8 validation); a load generator that costs more than the server measures itself.
 */
export const OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10

export interface FrameHandler {
  /** payload = buf[start, end); `nowUs`: the wall clock of the TCP read, µs (see readClock) */
  onFrame(buf: Buffer, start: number, end: number, opcode: number, nowUs: number): void
}

const CARRY_START_BYTES = 4 * 1024, NO_CARRY = Buffer.alloc(0)
/**
 * Every socket of the process reads into this one buffer (`onread`): a read is handed to its callback synchronously and
 * fully parsed (a frame's tail goes to the carry) before libuv reads the next socket, so nothing outlives the callback.
 * Measured by load-cost.ts against the 'data' event (a new Buffer, a stream push and an emit per read): see notes.
 * 64 KiB: libuv reads a readable socket again (up to 32 times) while the buffer comes back full.
 */
const READ_BYTES = 64 * 1024
const readBuffer = Buffer.allocUnsafe(READ_BYTES)

export function wallClockUs(): number { return (performance.timeOrigin + performance.now()) * 1000 }

/**
 * Every read's `nowUs` is the wall clock at that read: an upper bound on when its bytes arrived, so an age is never
 * understated. In a load process of hundreds of clients it also holds the time the process spent on the sockets read
 * before it in the same event-loop turn, which 1,000 real clients on their own machines would not wait for. With
 * `trackTurns`, `turnStartUs` is the clock of the turn's first read (≈ when epoll returned; no extra clock read), so
 * a reader can also age its bytes from there (understated by up to a turn for bytes that arrived during it), and
 * `onTurn` gets each turn's length (µs; one more clock read per turn).
 */
export const readClock: { trackTurns: boolean; onTurn: ((lengthUs: number) => void) | null } = { trackTurns: false, onTurn: null }
/** the clock of the current event-loop turn's first read (µs), 0 outside a turn or without trackTurns */
export let turnStartUs = 0
const endTurn = (): void => {
  const t = turnStartUs
  turnStartUs = 0
  readClock.onTurn?.(wallClockUs() - t)
}
function readNowUs(): number {
  const now = wallClockUs()
  if (readClock.trackTurns && turnStartUs === 0) { turnStartUs = now; setImmediate(endTurn) } // check phase: right after the poll phase's reads
  return now
}

export class LeanWsClient {
  socket: net.Socket | null = null
  /** close code from the server's close frame, 1006 when the TCP connection ended without one, 0 = open */
  closeCode = 0
  closeReason = ''
  /** TCP reads since construction (what the per-read costs are paid on) */
  reads = 0
  private carry = NO_CARRY // made at the first frame split across reads: most connections of a load process never need 64 KiB
  private carryLen = 0
  private upgraded = false
  private head = ''
  private onHead: ((ok: boolean, why: string) => void) | null = null

  constructor(private readonly handler: FrameHandler) {}

  /** `token`: sent as `Authorization: Bearer` on the upgrade (tickcast with authentication on). */
  connect(host: string, port: number, path: string, timeoutMs = 30_000, token = ''): Promise<void> {
    return new Promise((resolve, reject) => {
      // one callback per connection, made once; `false` would pause the socket, so it always says go on
      const sock = net.connect({ host, port, onread: { buffer: readBuffer, callback: (n: number): boolean => { this.read(n); return true } } })
      this.socket = sock
      sock.setNoDelay(true)
      const timer = setTimeout(() => { sock.destroy(); reject(new Error('websocket handshake timeout')) }, timeoutMs)
      this.onHead = (ok, why) => {
        clearTimeout(timer)
        this.onHead = null
        if (ok) resolve(); else { sock.destroy(); reject(new Error(why)) }
      }
      sock.on('error', (e) => { clearTimeout(timer); if (!this.upgraded) reject(e) })
      sock.on('close', () => { if (this.closeCode === 0) this.closeCode = 1006 })
      sock.on('connect', () => {
        sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          (token ? `Authorization: Bearer ${token}\r\n` : '') + '\r\n')
      })
    })
  }

  sendText(text: string): void { this.sendFrame(OP_TEXT, Buffer.from(text, 'utf8')) }

  /** Stops reading: the kernel buffers fill and the server sees backpressure (net's pause stops the handle's reads with onread too). */
  pause(): void { this.socket?.pause() }
  resume(): void { this.socket?.resume() }

  close(): void {
    const s = this.socket
    if (!s || s.destroyed) return
    this.sendFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]))
    s.end()
    setTimeout(() => s.destroy(), 200).unref()
  }

  destroy(): void { this.socket?.destroy() }

  private sendFrame(op: number, payload: Buffer): void {
    const s = this.socket
    if (!s || s.destroyed) return
    const n = payload.length, hdr = n < 126 ? 2 : n < 65536 ? 4 : 10
    const f = Buffer.allocUnsafe(hdr + 4 + n)
    f[0] = 0x80 | op
    if (n < 126) f[1] = 0x80 | n
    else if (n < 65536) { f[1] = 0x80 | 126; f.writeUInt16BE(n, 2) } else { f[1] = 0x80 | 127; f.writeUInt32BE(0, 2); f.writeUInt32BE(n, 6) }
    const mask = randomBytes(4)
    mask.copy(f, hdr)
    for (let i = 0; i < n; i++) f[hdr + 4 + i] = payload[i] ^ mask[i & 3]
    s.write(f)
  }

  /** readBuffer[0, n) was just read from this socket */
  private read(n: number): void {
    this.reads++
    if (this.upgraded) { this.receive(readBuffer, n, readNowUs()); return }
    // the HTTP head, once per connection: strings are fine here
    this.head += readBuffer.toString('latin1', 0, n)
    const end = this.head.indexOf('\r\n\r\n')
    if (end < 0) return
    const head = this.head
    this.head = ''
    if (!head.startsWith('HTTP/1.1 101')) { this.onHead?.(false, `upgrade refused: ${head.split('\r\n')[0]}`); return }
    this.upgraded = true
    this.onHead?.(true, '')
    const rest = Buffer.from(head.slice(end + 4), 'latin1')
    if (rest.length > 0) this.receive(rest, rest.length, readNowUs())
  }

  /** chunk[0, n): frames, the carry's tail first; `now` is the one clock read of this TCP read */
  private receive(chunk: Buffer, n: number, now: number): void {
    let buf = chunk, len = n
    if (this.carryLen > 0) {
      this.ensureCarry(this.carryLen + n)
      chunk.copy(this.carry, this.carryLen, 0, n)
      buf = this.carry; len = this.carryLen + n
    }
    let off = 0
    while (len - off >= 2) {
      const b0 = buf[off], l7 = buf[off + 1] & 0x7f
      let hdr = 2, plen = l7
      if (l7 === 126) { if (len - off < 4) break; plen = (buf[off + 2] << 8) | buf[off + 3]; hdr = 4 } else if (l7 === 127) {
        if (len - off < 10) break
        plen = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6); hdr = 10
      }
      const start = off + hdr, end = start + plen
      if (end > len) break
      const op = b0 & 0x0f
      if (op < OP_CLOSE) this.handler.onFrame(buf, start, end, op, now)
      else if (op === OP_PING) this.sendFrame(OP_PONG, Buffer.from(buf.subarray(start, end)))
      else if (op === OP_CLOSE) {
        this.closeCode = plen >= 2 ? buf.readUInt16BE(start) : 1005
        this.closeReason = plen > 2 ? buf.toString('utf8', start + 2, end) : ''
      }
      off = end
    }
    const rest = len - off
    if (rest === 0) { this.carryLen = 0; return }
    if (buf === this.carry) { if (off > 0) this.carry.copy(this.carry, 0, off, len) } else { this.ensureCarry(rest); buf.copy(this.carry, 0, off, len) }
    this.carryLen = rest
  }

  private ensureCarry(n: number): void {
    if (this.carry.length >= n) return
    const next = Buffer.allocUnsafe(Math.max(n, CARRY_START_BYTES, this.carry.length * 2))
    this.carry.copy(next, 0, 0, this.carryLen)
    this.carry = next
  }
}
