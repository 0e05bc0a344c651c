// Owns the embedded MQTT broker (aedes on a node:net server) used when no broker URL is configured.
// Must never listen beyond the host it is given (loopback by default) or outlive close(), nor let anyone but the
// tickcast that started it publish: that client proves itself with a per-process random password; all others only read.
import { Aedes } from 'aedes'
import type { AuthenticateError, Client } from 'aedes'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { bootError } from '../errors.js'

export interface EmbeddedBrokerOptions {
  host?: string
  /** 0 = any free port */
  port?: number
  /** close() gives up on clients that do not go after this long (keep it inside the shutdown deadline) */
  closeTimeoutMs?: number
}

/** The only identity allowed to publish; the password is random per process and never leaves it. */
export const PUBLISHER_USERNAME = 'tickcast'

export interface EmbeddedBroker {
  /** mqtt://host:port; the publisher must use protocolVersion 4 against it */
  readonly url: string
  readonly port: number
  /** what the publisher connects with; every other client may subscribe but not publish (nor set a will) */
  readonly credentials: { username: string; password: string }
  /** Idempotent: disconnects every client, stops listening and frees the port. */
  close(): Promise<void>
}

const CLOSE_TIMEOUT_MS = 2000

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1'
  const password = randomBytes(24).toString('base64url')
  const publishers = new WeakSet<Client>(), publisherIds = new Set<string>()
  const broker = await Aedes.createBroker({
    authenticate(client, username, pw, done) {
      if (username === PUBLISHER_USERNAME) {
        // constant length, so timingSafeEqual-style care is moot: a wrong guess is a refused CONNECT either way
        if (pw === undefined || pw.toString() !== password) { done(authError(4, 'bad credentials'), false); return }
        publishers.add(client); publisherIds.add(client.id); done(null, true); return
      }
      // a reader taking the publisher's client id would disconnect it (MQTT session takeover)
      if (publisherIds.has(client.id)) { done(authError(5, 'client id reserved'), false); return }
      done(null, true)
    },
    authorizePublish(client, _packet, done) {
      // also called for a disconnecting client's will: a reader cannot plant a fake `offline` either
      done(client !== null && publishers.has(client) ? null : new Error('publishing is reserved to tickcast'))
    },
  })
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
    credentials: { username: PUBLISHER_USERNAME, password },
    close(): Promise<void> {
      if (closing !== null) return closing
      closing = new Promise<void>((resolve) => {
        let brokerClosed = false, serverClosed = false
        const settle = (): void => { if (brokerClosed && serverClosed) { clearTimeout(timer); resolve() } }
        const dropSockets = (): void => { for (const s of sockets) s.destroy() }
        // server.close() waits for open connections: aedes closes its clients; the deadline covers a stuck one.
        const timer = setTimeout(() => { dropSockets(); brokerClosed = true; settle() }, opts.closeTimeoutMs ?? CLOSE_TIMEOUT_MS)
        server.close(() => { serverClosed = true; settle() })
        broker.close(() => { dropSockets(); brokerClosed = true; settle() })
      })
      return closing
    },
  }
}

function noop(): void {}

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}
