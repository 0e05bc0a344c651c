// HTTP response backpressure through a real tickcast: a peer that keeps pipelining `GET /asyncapi.json` without reading
// (in batches under the per-turn bound, so only backpressure can stop it) is cut off with the server holding no copy
// of the answers; an honest peer that reads late still gets every byte.
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PAGE_ROUTES, WITH_PAGE, simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { MAX_REQUESTS_PER_TURN } from './pipeline-guard.js'

const running: Stoppable[] = []
const sockets: Socket[] = []
afterEach(async () => { for (const s of sockets.splice(0)) s.destroy(); await stopAll(running) })
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('HTTP response backpressure', () => {
  it('cuts a connection whose answers go unread instead of buffering them; a late reader gets the whole body', async () => {
    const sim = await simulator(running, 100)
    const t = await tickcast(running, sim.port, WITH_PAGE)
    const size = readFileSync(PAGE_ROUTES.asyncapiPath).length
    const batch = Buffer.from('GET /asyncapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(MAX_REQUESTS_PER_TURN / 2))

    const s = connect(t.port, '127.0.0.1'); sockets.push(s)
    s.pause() // never read
    let closed = false
    s.on('close', () => { closed = true }); s.on('error', () => {})
    await new Promise<void>((r) => s.once('connect', () => r()))
    const rss0 = process.memoryUsage().rss
    let sent = 0
    // up to 600 answers (~40 MB) asked for, a batch per turn: res.end() would have buffered all of it
    for (let k = 0; k < 40 && !closed; k++) { s.write(batch); sent += MAX_REQUESTS_PER_TURN / 2; await sleep(15) }
    s.resume() // a paused socket never sees the FIN
    for (let i = 0; i < 100 && !closed; i++) await sleep(20)
    const growthMb = (process.memoryUsage().rss - rss0) / 1e6
    console.log(`pipelined ${sent} × /asyncapi.json (${(sent * size / 1e6).toFixed(0)} MB asked), never read: closed ${closed}, RSS +${growthMb.toFixed(1)} MB`)
    expect(closed).toBe(true)
    expect(sent).toBeLessThan(40 * MAX_REQUESTS_PER_TURN / 2) // cut once the socket buffers were full, long before the end
    expect(growthMb).toBeLessThan(20)

    // an honest client that reads late: the body arrives whole
    const h = connect(t.port, '127.0.0.1'); sockets.push(h)
    h.pause()
    const chunks: Buffer[] = []
    h.on('data', (d: Buffer) => chunks.push(d))
    h.write('GET /asyncapi.json HTTP/1.1\r\nHost: x\r\n\r\n')
    await sleep(300)
    h.resume()
    const whole = (): boolean => { const b = Buffer.concat(chunks); const i = b.indexOf('\r\n\r\n'); return i > 0 && b.length - i - 4 >= size }
    for (let i = 0; i < 100 && !whole(); i++) await sleep(20)
    expect(whole()).toBe(true)
  })
})
