// Every response of a real tickcast, read off a raw socket: the security headers on each, and HEAD on every GET route
// with the GET's status, headers and Content-Length but no body (the next response on the connection still parses).
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WITH_PAGE, simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { tempDir } from '../../test-support/auth.js'
import { waitFor } from '../../test-support/wait-for.js'
import type { Tickcast } from '../server.js'
import { CSP_NONE, documentCsp } from './security-headers.js'
import { PAGE_HTML } from '../client/page/page-html.js'

interface Reply { status: number; headers: Map<string, string[]>; body: Buffer }

/** One keep-alive connection, requests sent one at a time, responses framed by Content-Length as a client would. */
class RawHttp {
  private buf = Buffer.alloc(0)
  private wake: (() => void) | null = null
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake?.() })
    sock.on('close', () => this.wake?.())
  }
  static open(port: number): Promise<RawHttp> {
    return new Promise((resolve, reject) => { const s = connect(port, '127.0.0.1', () => resolve(new RawHttp(s))); s.once('error', reject) })
  }
  async request(method: string, path: string, extra = ''): Promise<Reply> {
    this.sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`)
    const head = await this.take((b) => { const i = b.indexOf('\r\n\r\n'); return i < 0 ? -1 : i + 4 })
    const lines = head.toString('latin1').trimEnd().split('\r\n')
    const headers = new Map<string, string[]>()
    for (const l of lines.slice(1)) {
      const k = l.slice(0, l.indexOf(':')).toLowerCase(), v = l.slice(l.indexOf(':') + 1).trim()
      headers.set(k, [...(headers.get(k) ?? []), v])
    }
    const len = method === 'HEAD' ? 0 : Number(headers.get('content-length')?.[0] ?? 0)
    const body = await this.take((b) => (b.length >= len ? len : -1))
    return { status: Number(lines[0].split(' ')[1]), headers, body }
  }
  /** true when nothing more arrived (a HEAD that leaked a body would show here) */
  async quiet(ms: number): Promise<boolean> { await new Promise((r) => setTimeout(r, ms)); return this.buf.length === 0 }
  close(): void { this.sock.destroy() }
  private async take(frame: (b: Buffer) => number): Promise<Buffer> {
    const deadline = Date.now() + 5000
    for (;;) {
      const n = frame(this.buf)
      if (n >= 0) { const out = this.buf.subarray(0, n); this.buf = this.buf.subarray(n); return out }
      if (this.sock.destroyed || Date.now() > deadline) throw new Error(`no complete response (have ${JSON.stringify(this.buf.toString('latin1'))})`)
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 100) })
    }
  }
}

function expectSecure(r: Reply, what: string, csp = CSP_NONE): void {
  const one = (k: string): string | undefined => { const v = r.headers.get(k); expect(v?.length, `${what}: ${k} once`).toBe(1); return v?.[0] }
  expect(one('x-content-type-options'), what).toBe('nosniff')
  expect(one('x-frame-options'), what).toBe('DENY')
  expect(one('referrer-policy'), what).toBe('no-referrer')
  expect(one('content-security-policy'), what).toBe(csp)
}

const running: Stoppable[] = []
let t: Tickcast
beforeAll(async () => {
  const sim = await simulator(running, 100)
  t = await tickcast(running, sim.port, WITH_PAGE)
  await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
})
afterAll(() => stopAll(running))

describe('security headers and HEAD', () => {
  it('the live page allows only its own scripts and its one inline style, by hash', () => {
    const csp = documentCsp(PAGE_HTML)
    expect(csp).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self' 'sha256-[A-Za-z0-9+/]{43}='; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/)
    expect(csp).not.toContain('unsafe')
    // an inline script would be allowed by its hash only, a script with src by 'self'
    expect(documentCsp('<script>x()</script><script src="/a.js"></script>')).toContain("script-src 'self' 'sha256-")
  })

  it('every GET route answers HEAD with the same status and headers, Content-Length of the body, and no body', async () => {
    const sym = t.symbols.name[0]
    const paths = ['/', '/client.js', '/client/tickcast-client.js', '/client/page/live-page.js', '/client/nope.js', '/asyncapi.json',
      '/healthz', '/readyz', '/v1/symbols', `/v1/snapshot/${sym}`, '/v1/snapshot/NOPE', '/v1/snapshot/bad!', '/metrics', '/no/such/route']
    const c = await RawHttp.open(t.port)
    try {
      for (const p of paths) {
        const get = await c.request('GET', p)
        const head = await c.request('HEAD', p)
        expect(head.status, p).toBe(get.status)
        expect(head.status, p).not.toBe(0)
        expect(head.body.length, p).toBe(0)
        expect(head.headers.get('content-type'), p).toEqual(get.headers.get('content-type'))
        const getLen = Number(get.headers.get('content-length')![0])
        expect(get.body.length, p).toBe(getLen)
        // /metrics and a live symbol's snapshot render anew (a counter or a quote may have moved); the rest is byte-identical
        if (p === '/metrics' || p === `/v1/snapshot/${sym}`) expect(Math.abs(Number(head.headers.get('content-length')![0]) - getLen), p).toBeLessThan(200)
        else expect(head.headers.get('content-length'), p).toEqual([String(getLen)])
        expectSecure(get, `GET ${p}`, p === '/' ? documentCsp(PAGE_HTML) : CSP_NONE)
        expectSecure(head, `HEAD ${p}`, p === '/' ? documentCsp(PAGE_HTML) : CSP_NONE)
      }
      expect(await c.quiet(100), 'a HEAD response carried body bytes').toBe(true)
      expect((await c.request('GET', '/healthz')).body.toString()).toBe('ok') // the connection is still in step
    } finally { c.close() }
  })

  it('the metrics listener answers HEAD and carries the same headers (its 404 too)', async () => {
    const c = await RawHttp.open(t.metricsPort)
    try {
      for (const p of ['/metrics', '/v1/symbols']) {
        const get = await c.request('GET', p)
        const head = await c.request('HEAD', p)
        expect(get.status, p).toBe(p === '/metrics' ? 200 : 404)
        expect(head.status, p).toBe(get.status)
        expect(head.body.length, p).toBe(0)
        expectSecure(get, `GET ${p}`, CSP_NONE)
        expectSecure(head, `HEAD ${p}`, CSP_NONE)
      }
      expect(await c.quiet(100), 'a HEAD response carried body bytes').toBe(true)
    } finally { c.close() }
  })

  it('refusals carry them too: a bad WebSocket upgrade, a bad format, and an unauthenticated REST call', async () => {
    const c = await RawHttp.open(t.port)
    const upgrade = (version: string, query = ''): Promise<Reply> => c.request('GET', `/v1/stream${query}`,
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\n`)
    try {
      const v8 = await upgrade('8')
      expect(v8.status).toBe(426); expectSecure(v8, 'upgrade version 8')
      const fmt = await upgrade('13', '?format=xml')
      expect(fmt.status).toBe(400); expectSecure(fmt, 'upgrade bad format')
    } finally { c.close() }

    const dir = tempDir(), secret = join(dir, 'secret')
    writeFileSync(secret, 'a-test-secret-of-at-least-32-bytes-long')
    const sim = await simulator(running, 10)
    const authed = await tickcast(running, sim.port, {}, ['--auth-jwt-secret-file', secret])
    const a = await RawHttp.open(authed.port)
    try {
      const none = await a.request('GET', '/v1/symbols')
      expect(none.status).toBe(401); expectSecure(none, '401 without a token')
      const bad = await a.request('GET', '/v1/symbols', 'Authorization: Bearer not.a.jwt\r\n')
      expect(bad.status).toBe(401); expectSecure(bad, '401 with a bad token')
      const head = await a.request('HEAD', '/v1/symbols')
      expect(head.status).toBe(401); expect(head.body.length).toBe(0); expectSecure(head, 'HEAD 401')
      expect(await a.quiet(100)).toBe(true)
    } finally { a.close() }
  })
})
