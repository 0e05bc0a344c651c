// Connection admission on real sockets: the per-IP cap (429), the upgrade rate (429), the global cap (503), each
// counted by reason, with /healthz still answering while the caps are reached.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { ConnectionGate, effectiveMaxConnections } from './connection-limits.js'

const running: Stoppable[] = []
const sockets: WebSocket[] = []
afterEach(async () => { for (const s of sockets.splice(0)) s.terminate(); await stopAll(running) })

/** 101 → the open socket; else the HTTP status the upgrade got. */
function connect(url: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => { sockets.push(ws); resolve(ws) })
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.once('error', reject)
  })
}

describe('connection admission', () => {
  it('refuses over the per-IP cap with 429 and over the global cap with 503, counts each, keeps /healthz up', async () => {
    const sim = await simulator(running, 100)
    const t = await tickcast(running, sim.port, {}, ['--max-connections-per-ip', '4', '--upgrades-per-ip-per-sec', '1000', '--max-connections', '1000'])
    for (let i = 0; i < 4; i++) expect(await connect(t.url)).toBeInstanceOf(WebSocket)
    expect(await connect(t.url)).toBe(429)
    expect(t.ws.stats.upgradesRejected.ip_limit).toBe(1)
    expect((await fetch(`http://127.0.0.1:${t.port}/healthz`)).status).toBe(200)
    sockets.shift()!.close()
    await new Promise((r) => setTimeout(r, 100))
    expect(await connect(t.url)).toBeInstanceOf(WebSocket) // a slot freed on close

    const g = await tickcast(running, sim.port, {}, ['--max-connections', '2'])
    expect(await connect(g.url)).toBeInstanceOf(WebSocket)
    expect(await connect(g.url)).toBeInstanceOf(WebSocket)
    expect(await connect(g.url)).toBe(503)
    expect(g.ws.stats.upgradesRejected.capacity).toBe(1)
    expect((await fetch(`http://127.0.0.1:${g.port}/healthz`)).status).toBe(200)
  })

  it('limits the upgrade rate per IP after a burst of --max-connections-per-ip', async () => {
    const sim = await simulator(running, 100)
    const t = await tickcast(running, sim.port, {}, ['--max-connections-per-ip', '3', '--upgrades-per-ip-per-sec', '1'])
    for (let i = 0; i < 3; i++) expect(await connect(t.url)).toBeInstanceOf(WebSocket)
    sockets.shift()!.close()
    await new Promise((r) => setTimeout(r, 100))
    expect(await connect(t.url)).toBe(429) // a slot is free, but the bucket is empty
    expect(t.ws.stats.upgradesRejected.ip_rate).toBe(1)
    await new Promise((r) => setTimeout(r, 1100))
    expect(await connect(t.url)).toBeInstanceOf(WebSocket)
  })

  it('keeps the global cap below the descriptor limit', () => {
    expect(effectiveMaxConnections(50_000, 1024)).toBe(1024 - 128)
    expect(effectiveMaxConnections(500, 1024)).toBe(500)
    expect(effectiveMaxConnections(500, null)).toBe(500)
    const g = new ConnectionGate({ maxConnections: 10, maxPerIp: 0, upgradesPerIpPerSec: 0 })
    for (let i = 0; i < 10; i++) { expect(g.admit('a', 0)).toBeNull(); g.opened('a') }
    expect(g.admit('b', 0)).toBe('capacity')
  })
})
