// Owns making throwaway certificates with the real openssl: a CA, a server certificate for 127.0.0.1/localhost, a
// client certificate, an encrypted server key. Must never reuse keys across runs: every call makes fresh ones.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Certs { dir: string; ca: string; serverCert: string; serverKey: string; passphrase: string; passphraseFile: string; clientCert: string; clientKey: string }

const run = (args: string[]): void => { execFileSync('openssl', args, { stdio: 'pipe' }) }

export function makeCerts(dir: string): Certs {
  const p = (n: string): string => join(dir, n)
  const passphrase = 'pass-' + Math.random().toString(36).slice(2)
  writeFileSync(p('pass.txt'), passphrase + '\n')
  writeFileSync(p('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n')
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=tickcast test CA'])
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', 'file:' + p('pass.txt'), '-out', p('server.key')])
  run(['req', '-new', '-key', p('server.key'), '-passin', 'file:' + p('pass.txt'), '-out', p('server.csr'), '-subj', '/CN=localhost'])
  run(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('san.ext')])
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', '/CN=tickcast'])
  run(['x509', '-req', '-in', p('client.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('client.pem'), '-days', '2', '-extfile', p('client.ext')])
  // mosquitto (and its user) must be able to read the unencrypted copies it uses
  run(['pkey', '-in', p('server.key'), '-passin', 'file:' + p('pass.txt'), '-out', p('server-plain.key')])
  return { dir, ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), passphrase, passphraseFile: p('pass.txt'), clientCert: p('client.pem'), clientKey: p('client.key') }
}
