// Owns turning the Config's auth and TLS settings into what the servers take: auth options, TLS files and passphrase.
// Must never log what it reads: a passphrase or key leaves here only inside the options object it returns.
import { readFileSync } from 'node:fs'
import type { Config } from '../config.js'
import { BootError } from '../errors.js'
import type { AuthOptions } from './authenticator.js'

export function authOptions(c: Config): AuthOptions {
  return {
    secretFile: c.authJwtSecretFile, jwksFile: c.authJwksFile, jwksUrl: c.authJwksUrl, issuer: c.authJwtIssuer, audience: c.authJwtAudience,
    clockSkewSec: c.authClockSkewSec, apiKeysFile: c.authApiKeysFile, rolesFile: c.authRolesFile, allowAnonymous: c.allowAnonymous,
    queryToken: c.authQueryToken, authDeadlineMs: c.authDeadlineMs, expiryWarnSec: c.authExpiryWarnSec,
  }
}

function read(path: string, what: string): string {
  try { return readFileSync(path, 'utf8') } catch (e) { throw new BootError('TLS_FILE', `${what} ${path}: ${(e as Error).message}`) }
}

/** uWS SSLApp's files; the passphrase is read here (one trailing newline trimmed). null = plain HTTP. */
export function serverTls(c: Config): { certFile: string; keyFile: string; passphrase: string } | null {
  if (!c.tlsCertFile) return null
  read(c.tlsCertFile, 'TLS certificate'); read(c.tlsKeyFile, 'TLS key') // a missing file is a clear boot error, not a uWS abort
  return { certFile: c.tlsCertFile, keyFile: c.tlsKeyFile, passphrase: c.tlsPassphraseFile ? read(c.tlsPassphraseFile, 'TLS passphrase file').replace(/\r?\n$/, '') : '' }
}

/** MQTT.js TLS options (mqtts:// or wss://): CA, client certificate and key, server name. */
export function mqttTls(c: Config): { ca?: string; cert?: string; key?: string; servername?: string } {
  const o: { ca?: string; cert?: string; key?: string; servername?: string } = {}
  if (c.mqttCaFile) o.ca = read(c.mqttCaFile, 'MQTT CA file')
  if (c.mqttCertFile) { o.cert = read(c.mqttCertFile, 'MQTT certificate'); o.key = read(c.mqttKeyFile, 'MQTT key') }
  if (c.mqttServername) o.servername = c.mqttServername
  return o
}
