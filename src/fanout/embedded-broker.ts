// Owns the embedded MQTT broker (aedes on a node:net server) used when no broker URL is configured.
// Must never listen beyond the host it is given (loopback by default) or outlive close(): it speaks MQTT 3.1.1 only.
import { Aedes } from 'aedes'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { bootError } from '../errors.js'

export interface EmbeddedBrokerOptions {
  host?: string
  /** 0 = any free port */
  port?: number
}

export interface EmbeddedBroker {
  /** mqtt://host:port; the publisher must use protocolVersion 4 against it */
  readonly url: string
  readonly port: number
  /** Idempotent: disconnects every client, stops listening and frees the port. */
  close(): Promise<void>
}

const CLOSE_TIMEOUT_MS = 2000

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1'
  const broker = await Aedes.createBroker()
  const sockets = new Set<Socket>()
  const server = createServer((sock) => {
    sockets.add(sock)
    sock.once('close', () => sockets.delete(sock))
    broker.handle(sock)
  })
  // aedes emits per-client errors (a peer resetting its socket); without a listener they would throw.
  broker.on('clientError', noop)
  broker.on('connectionError', noop)

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err) => reject(bootError('MQTT_EMBEDDED_LISTEN', `embedded MQTT broker cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`)))
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address()
      resolve(typeof addr === 'object' && addr !== null ? addr.port : 0)
    })
  }).catch((err: unknown) => new Promise<never>((_, reject) => broker.close(() => reject(err))))

  let closing: Promise<void> | null = null
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close(): Promise<void> {
      if (closing !== null) return closing
      closing = new Promise<void>((resolve) => {
        let brokerClosed = false, serverClosed = false
        const settle = (): void => { if (brokerClosed && serverClosed) { clearTimeout(timer); resolve() } }
        const dropSockets = (): void => { for (const s of sockets) s.destroy() }
        // server.close() waits for open connections: aedes closes its clients; the deadline covers a stuck one.
        const timer = setTimeout(() => { dropSockets(); brokerClosed = true; settle() }, CLOSE_TIMEOUT_MS)
        server.close(() => { serverClosed = true; settle() })
        broker.close(() => { dropSockets(); brokerClosed = true; settle() })
      })
      return closing
    },
  }
}

function noop(): void {}
