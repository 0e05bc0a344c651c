// Pipelined HTTP on real sockets: peers that pipeline thousands of requests and never read are cut off after the
// per-turn bound, a bystander subscribed to `*` keeps every symbol's n rising by exactly 1, honest pipelining works.
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { MAX_REQUESTS_PER_TURN } from './pipeline-guard.js'

const running: Stoppable[] = []
const sockets: Socket[] = []
afterEach(async () => { for (const s of sockets.splice(0)) s.destroy(); await stopAll(running) })
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Subscribes to `*`; counts n breaks (anything but +1 outside snapshots) and times the longest silence. */
function bystander(url: string): { ws: WebSocket; gaps: number; events: number; stallMs(): number; reset(): void } {
  const ws = new WebSocket(url)
  const last = new Map<string, number>()
  let at = performance.now(), longest = 0
  const b = {
    ws, gaps: 0, events: 0,
    stallMs: () => Math.max(longest, performance.now() - at),
    reset: () => { longest = 0; at = performance.now() },
  }
  ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] })))
  ws.on('message', (d) => {
    const now = performance.now()
    longest = Math.max(longest, now - at); at = now
    const m = JSON.parse(String(d)) as unknown
    if (!Array.isArray(m)) return
    for (const e of m as Array<{ s: string; n: number; e: string }>) {
      b.events++
      const prev = last.get(e.s)
      if (prev !== undefined && e.e !== 'snap' && e.n !== prev + 1 && e.n !== prev) b.gaps++
      last.set(e.s, e.n)
    }
  })
  return b
}

/** `conns` sockets each pipelining `count` GETs of `path`, not reading for `ms`; resolves how many the server cut. */
async function pipelineAttack(port: number, path: string, count: number, conns: number, ms: number): Promise<number> {
  const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(count))
  let closed = 0
  for (let i = 0; i < conns; i++) {
    const s = connect(port, '127.0.0.1')
    s.pause() // never read: every answer the server sends stays in its buffers or ours
    s.on('error', () => {}); s.on('close', () => { closed++ })
    s.write(req)
    sockets.push(s)
  }
  await sleep(ms)
  // a paused socket never sees the server's FIN: read now, and the cut connections end
  for (const s of sockets) s.resume()
  for (let i = 0; i < 100 && closed < conns; i++) await sleep(20)
  return closed
}

describe('pipelined HTTP', () => {
  it('cuts off peers that pipeline without reading; a * bystander keeps every n and keeps hearing', async () => {
    const sim = await simulator(running, 2000)
    const t = await tickcast(running, sim.port)
    const b = bystander(t.url)
    await sleep(800)
    expect(b.events).toBeGreaterThan(0)
    const rss0 = process.memoryUsage().rss
    for (const [path, count, conns] of [['/metrics', 5000, 20], ['/asyncapi.json', 6000, 1]] as const) {
      b.reset()
      const before = b.events
      const closed = await pipelineAttack(t.port, path, count, conns, 1500)
      const stall = b.stallMs()
      // figures for the README's hostile table (in-process: attacker, server and bystander share one loop)
      console.log(`pipelined ${conns} × ${count} ${path}: bystander longest stall ${stall.toFixed(0)} ms, ` +
        `${b.events - before} events during the attack, connections cut ${closed}/${conns}, RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`)
      expect(closed).toBe(conns)
      expect(b.events - before).toBeGreaterThan(0)
      expect(b.gaps).toBe(0)
    }
    const m = await (await fetch(t.metricsUrl)).text()
    expect(Number(/^tickcast_http_pipelining_refused_total (\d+)/m.exec(m)?.[1])).toBeGreaterThanOrEqual(21)
  })

  it('answers an honest client that pipelines within the bound, in order', async () => {
    const sim = await simulator(running, 100)
    const t = await tickcast(running, sim.port)
    const n = Math.min(10, MAX_REQUESTS_PER_TURN)
    const s = connect(t.port, '127.0.0.1'); sockets.push(s)
    let text = ''
    s.on('data', (d: Buffer) => { text += d.toString() })
    s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(n))
    for (let i = 0; i < 50 && (text.match(/\r\n\r\nok/g) ?? []).length < n; i++) await sleep(20)
    expect((text.match(/HTTP\/1\.1 200 OK/g) ?? []).length).toBe(n)
    expect(s.destroyed).toBe(false)
  })
})
