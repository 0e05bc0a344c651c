// Owns what the auth tests share: signing real JWTs with jose, writing keys/roles files, a WebSocket client that records.
// Must never fake verification: tokens are signed with real keys and checked by the real server.
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { createHash } from 'node:crypto'
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'

export function tempDir(): string { return mkdtempSync(join(tmpdir(), 'tickcast-auth-')) }

/** Atomic replace (as an operator's `mv` or an editor does): the server's poll sees a new inode. */
export function writeJson(path: string, value: unknown): void {
  writeFileSync(path + '.tmp', JSON.stringify(value)); renameSync(path + '.tmp', path)
}

export function sha256(key: string): string { return createHash('sha256').update(key).digest('hex') }

export interface Signer { alg: string; kid: string; jwk: JWK; sign(claims: Record<string, unknown>, expSec?: number): Promise<string> }

/** A key pair for alg (RS256, ES256, EdDSA); the public JWK carries kid and alg. */
export async function signer(alg: string, kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined, extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, jwk, sign: (claims, expSec = 300) => sign(claims, privateKey, alg, kid, expSec) }
}

export function hsSigner(secret: string): Signer {
  const key = new TextEncoder().encode(secret)
  return { alg: 'HS256', kid: '', jwk: {}, sign: (claims, expSec = 300) => sign(claims, key, 'HS256', undefined, expSec) }
}

function sign(claims: Record<string, unknown>, key: Parameters<SignJWT['sign']>[0], alg: string, kid: string | undefined, expSec: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT(claims).setProtectedHeader({ alg, kid }).setIssuedAt(now).setExpirationTime(now + expSec).sign(key)
}

export interface Client {
  ws: WebSocket
  /** JSON control replies (objects with `type`) and data events (`e`), in arrival order */
  control: Array<Record<string, unknown>>
  events: Array<Record<string, unknown>>
  closed: Promise<{ code: number; reason: string }>
  /** HTTP status when the upgrade was refused */
  refused: Promise<number>
  send(msg: unknown): void
}

export function connect(url: string, token = '', opts: WebSocket.ClientOptions = {}): Client {
  const ws = new WebSocket(url, { ...opts, headers: token ? { authorization: `Bearer ${token}` } : {} })
  const control: Array<Record<string, unknown>> = [], events: Array<Record<string, unknown>> = []
  ws.on('message', (d) => {
    const v = JSON.parse(String(d)) as unknown
    if (Array.isArray(v)) events.push(...(v as Array<Record<string, unknown>>)); else control.push(v as Record<string, unknown>)
  })
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })))
  const refused = new Promise<number>((r) => ws.on('unexpected-response', (_req, res) => { r(res.statusCode ?? 0); ws.terminate() }))
  ws.on('error', () => {})
  return { ws, control, events, closed, refused, send: (m) => ws.send(JSON.stringify(m)) }
}

export function opened(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    if (c.ws.readyState === WebSocket.OPEN) { resolve(); return }
    c.ws.once('open', () => resolve())
    void c.refused.then((s) => reject(new Error(`upgrade refused: HTTP ${s}`)))
  })
}
