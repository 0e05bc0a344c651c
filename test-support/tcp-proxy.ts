// Owns a loopback TCP proxy on a fixed port whose backend can be re-targeted: a stand-in for a load balancer, and
// the place where tests inject network faults (cuts, stray bytes, silences) from outside the servers they test.
// Must never rewrite bytes: it forwards both ways as received; a fault is only ever a cut, an insertion or a hold
// (nothing forwarded either way, connections left open; the paused sockets' own buffers are all that waits).
// Why: uWS cannot re-bind a port for ~60 s after serving WebSockets (TIME_WAIT, no SO_REUSEADDR), so a
// "server restart on the same address" in tests is a new tickcast on a new port behind this fixed front port;
// and product servers (feeds/soup-server.ts) carry no test hooks: faults go through here.
import { createConnection, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** proxied connections currently open */
  readonly connectionCount: number
  /** New connections go to 127.0.0.1:`port`; existing ones are left alone (they die with their backend). */
  retarget(port: number): void
  /** Cuts every proxied connection (both sides). */
  dropAll(): void
  /**
   * Stops forwarding both ways: connections stay open but nothing arrives, not even heartbeats (a silent link).
   * Connections made while held are held too. release() forwards again, everything that waited included.
   */
  hold(): void
  release(): void
  /** Writes `bytes` to every proxied client as if its backend had sent them (between two forwarded chunks). */
  inject(bytes: Buffer): void
  /**
   * Cuts every proxied connection inside a frame of the backend's stream, which must be u16 big-endian
   * length-prefixed frames (SoupBinTCP): at the next frame start, the client gets the first `cutBytes` of that
   * frame (clamped to 1..size-1), then FIN; the backend side is reset. Resolves with how many were cut so
   * (a connection that closes first is not counted).
   */
  cutMidFrame(cutBytes: number): Promise<number>
  close(): Promise<void>
}

/**
 * One proxied connection. Backend → client bytes go through onDownstream (not pipe) so the proxy knows where
 * the backend's frames start; it costs nothing for streams nobody cuts (HTTP, WebSocket): the walk is a few
 * additions per chunk.
 */
class Conn {
  /** bytes of the current backend frame not forwarded yet; 0 = at a frame start */
  left = 0
  /** first length byte when a chunk ended between the two; -1 otherwise */
  hi = -1
  /** > 0: cut at the next frame start after this many bytes of it */
  cutBytes = 0
  /** a cut was asked for: the connection no longer counts as open */
  cutting = false
  onCut: ((cut: boolean) => void) | null = null
  /** forwarding stopped by hold(): both sockets paused, and a 'drain' must not resume them */
  held = false

  constructor(readonly client: Socket, readonly upstream: Socket) {}

  hold(): void { this.held = true; this.client.pause(); this.upstream.pause() }

  release(): void { this.held = false; this.client.resume(); this.upstream.resume() }

  onDownstream(chunk: Buffer): void {
    if (this.client.writableEnded) return // cut: nothing more reaches the client
    const n = chunk.length
    let p = 0
    while (p < n) {
      if (this.hi >= 0) { this.left = (this.hi << 8) | chunk[p]; this.hi = -1; p++; continue }
      if (this.left > 0) { const k = Math.min(this.left, n - p); this.left -= k; p += k; continue }
      if (this.cutBytes > 0) { this.cutAt(chunk, p); return } // p is a frame start
      if (p + 1 < n) this.left = 2 + chunk.readUInt16BE(p)
      else { this.hi = chunk[p]; p++ }
    }
    if (!this.client.write(chunk)) { this.upstream.pause(); this.client.once('drain', () => { if (!this.held) this.upstream.resume() }) }
  }

  private cutAt(chunk: Buffer, start: number): void {
    const size = start + 1 < chunk.length ? 2 + chunk.readUInt16BE(start) : 2
    const end = Math.min(chunk.length, start + Math.max(1, Math.min(size - 1, this.cutBytes)))
    this.upstream.destroy()
    this.client.end(chunk.subarray(0, end)) // end() flushes what is queued, then FIN: the client sees half a frame
    this.settle(true)
  }

  settle(cut: boolean): void {
    const f = this.onCut
    this.onCut = null; this.cutBytes = 0
    if (f) f(cut)
  }
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort, held = false
  const conns = new Set<Conn>()
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target })
    const c = new Conn(client, upstream)
    conns.add(c)
    const done = (): void => { client.destroy(); upstream.destroy(); conns.delete(c); c.settle(false) }
    client.on('error', done); upstream.on('error', done)
    // a client that was sent its last bytes with end() keeps its socket until they are flushed
    client.on('close', done); upstream.on('close', () => { if (!client.writableEnded) done() })
    client.pipe(upstream)
    upstream.on('data', (chunk: Buffer) => c.onDownstream(chunk))
    upstream.on('end', () => client.end())
    if (held) c.hold()
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address')
  const dropAll = (): void => {
    for (const c of conns) { c.client.destroy(); c.upstream.destroy(); c.settle(false) }
    conns.clear()
  }
  return {
    port: addr.port,
    get connectionCount() { let n = 0; for (const c of conns) if (!c.cutting) n++; return n },
    retarget(p) { target = p },
    dropAll,
    hold() { held = true; for (const c of conns) c.hold() },
    release() { held = false; for (const c of conns) c.release() },
    inject(bytes) { for (const c of conns) c.client.write(bytes) },
    cutMidFrame(cutBytes) {
      // the connections open now: one made while this cut waits for a frame is not its business
      const cuts = [...conns].filter((c) => !c.cutting).map((c) => new Promise<boolean>((resolve) => {
        c.cutting = true; c.cutBytes = Math.max(1, cutBytes); c.onCut = resolve
      }))
      return Promise.all(cuts).then((r) => r.filter(Boolean).length)
    },
    close() {
      dropAll()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
