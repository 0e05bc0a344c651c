// A restart can listen on the port it just served WebSockets on, at once: the closed connections sit in TIME_WAIT
// on the server side, and uWS's listen socket sets SO_REUSEADDR, so they do not block the bind.
import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { freePort } from '../../test-support/processes.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

/** TCP connections on local port `port` in TIME_WAIT (ss from iproute2; null when ss is missing). */
function timeWaits(port: number): number | null {
  try {
    return execFileSync('ss', ['-Htan', 'state', 'time-wait', `( sport = :${port} )`], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '').length
  } catch { return null }
}

describe('re-binding the port after a restart', () => {
  it('listens again on the same port immediately after serving WebSocket clients (server-side TIME_WAIT present)', async () => {
    const sim = await simulator(running, 100)
    const port = await freePort('127.0.0.1')
    const first = await tickcast([], sim.port, {}, ['--port', String(port)])
    let firstStopped = false
    running.push({ stop: () => (firstStopped ? Promise.resolve() : first.stop()) })
    expect(first.port).toBe(port)
    const clients = Array.from({ length: 5 }, () => new WebSocket(`ws://127.0.0.1:${port}/v1/stream`))
    const frames = clients.map(() => 0)
    clients.forEach((c, k) => {
      c.on('open', () => c.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] })))
      c.on('message', () => { frames[k]++ })
      c.on('error', () => {})
    })
    await waitFor(() => frames.every((n) => n > 1), 5000, 'every client receiving')
    const closed = clients.map((c) => new Promise((r) => c.on('close', r)))
    await first.stop() // the server closes them (1001): the side that closes first holds TIME_WAIT
    firstStopped = true
    await Promise.all(closed)
    const tw = timeWaits(port)
    if (tw !== null) expect(tw, 'connections of the first server in TIME_WAIT on its port').toBeGreaterThan(0)

    const t0 = performance.now()
    const second = await tickcast(running, sim.port, {}, ['--port', String(port)])
    expect(second.port).toBe(port)
    expect(performance.now() - t0).toBeLessThan(5000)
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
  })
})
