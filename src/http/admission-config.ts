// Owns turning the connection-limit options into the limits the gate enforces, lowered to the descriptor limit.
// Must never read process state beyond the descriptor limit, nor change the configuration it is given.
import type { Config } from '../config.js'
import { effectiveMaxConnections, openFileLimit, RESERVED_FDS } from './connection-limits.js'
import type { AdmissionLimits } from './connection-limits.js'

export function admissionLimits(config: Config, log: { warn(obj: object, msg: string): void }): AdmissionLimits {
  const fds = openFileLimit()
  const maxConnections = effectiveMaxConnections(config.maxConnections, fds)
  if (maxConnections < config.maxConnections) {
    log.warn({ configured: config.maxConnections, fdLimit: fds, reserved: RESERVED_FDS, maxConnections }, 'connection cap lowered below the descriptor limit (raise ulimit -n for more)')
  }
  return { maxConnections, maxPerIp: config.maxConnectionsPerIp, upgradesPerIpPerSec: config.upgradesPerIpPerSec }
}
