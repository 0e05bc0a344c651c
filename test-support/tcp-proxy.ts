// Owns a loopback TCP proxy on a fixed port whose backend can be re-targeted: a stand-in for a load balancer.
// Must never buffer or rewrite bytes: it pipes both ways, so HTTP and WebSocket traffic pass through untouched.
// Why: uWS cannot re-bind a port for ~60 s after serving WebSockets (TIME_WAIT, no SO_REUSEADDR), so a
// "server restart on the same address" in tests is a new tickcast on a new port behind this fixed front port.
import { createConnection, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** New connections go to 127.0.0.1:`port`; existing ones are left alone (they die with their backend). */
  retarget(port: number): void
  /** Cuts every proxied connection (both sides). */
  dropAll(): void
  close(): Promise<void>
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target })
    sockets.add(client); sockets.add(upstream)
    const done = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', done); upstream.on('error', done)
    client.on('close', done); upstream.on('close', done)
    client.pipe(upstream); upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address')
  return {
    port: addr.port,
    retarget(p) { target = p },
    dropAll() { for (const s of sockets) s.destroy(); sockets.clear() },
    close() {
      for (const s of sockets) s.destroy()
      sockets.clear()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
