// Owns the check that a fixed port is free before uWS listens: uWS sets SO_REUSEPORT and would share it silently.
// Must never keep the port: the probe socket is closed before the real listen.
import { createServer } from 'node:net'
import { BootError } from '../errors.js'

/** Resolves when host:port could be bound by this process alone; port 0 needs no probe. Else BootError PORT_IN_USE. */
export function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE'
        ? new BootError('PORT_IN_USE', `${host}:${port} is already bound by another process (is another tickcast running?)`)
        : new BootError('WS_LISTEN', `cannot listen on ${host}:${port}: ${e.code ?? e.message}`))
    })
    // exclusive: no SO_REUSEPORT on the probe, so a uWS listener (which sets it) still collides
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
  })
}
