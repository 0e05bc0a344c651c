// /metrics on a listener of its own, through a real tickcast: served on --metrics-port, 404 on the client port, the
// body cached briefly, pipelining bounded there too, and a metrics port already bound refused at boot.
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { METRICS_REQUESTS_PER_TURN } from './metrics-listener.js'
import { SCRAPE_CACHE_MS } from './scrape-cache.js'

const running: Stoppable[] = []
afterEach(async () => { await stopAll(running) })

describe('metrics listener', () => {
  it('serves /metrics on its own port only, cached briefly, pipelining bounded', async () => {
    const sim = await simulator(running, 200)
    const t = await tickcast(running, sim.port)
    expect(t.metricsPort).not.toBe(t.port)
    expect(t.metricsUrl).toBe(`http://127.0.0.1:${t.metricsPort}/metrics`)
    const a = await fetch(t.metricsUrl)
    expect([a.status, a.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8'])
    const body = await a.text()
    expect(body).toContain('tickcast_ring_capacity')
    // within the cache's life a scrape returns the same exposition, counters included (one exposition per window)
    const t0 = performance.now(), again = await (await fetch(t.metricsUrl)).text()
    if (performance.now() - t0 < SCRAPE_CACHE_MS / 2) expect(again).toBe(body)
    expect((await fetch(`http://127.0.0.1:${t.port}/metrics`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${t.metricsPort}/v1/symbols`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${t.metricsPort}/healthz`)).status).toBe(404)

    // a peer pipelining far past the bound without reading is cut off here as on the client port
    const s = connect(t.metricsPort, '127.0.0.1')
    const closed = new Promise<void>((r) => s.on('close', () => r()))
    s.on('error', () => {}); s.on('data', () => {})
    s.write(`GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(METRICS_REQUESTS_PER_TURN * 20))
    await closed
    await new Promise((r) => setTimeout(r, SCRAPE_CACHE_MS + 50))
    const m = await (await fetch(t.metricsUrl)).text()
    expect(Number(/^tickcast_http_pipelining_refused_total (\d+)/m.exec(m)?.[1])).toBeGreaterThanOrEqual(1)
  })

  it('refuses to start when the metrics port is already bound', async () => {
    const sim = await simulator(running, 100)
    const busy: Server = createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()))
    running.push({ stop: () => new Promise((r) => busy.close(() => r(undefined))) })
    const port = (busy.address() as { port: number }).port
    await expect(tickcast(running, sim.port, {}, ['--metrics-port', String(port)])).rejects.toThrow(/already bound by another process/)
  })
})
