// The client library against a real authenticating server: getToken() at connect, an in-band refresh on auth_expiring
// that keeps the connection and the sequence unbroken, and no reconnect storm after a 4401.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { hsSigner, tempDir } from '../../test-support/auth.js'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { TickcastClient } from './tickcast-client.js'
import type { ConnectionState } from './tickcast-client.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))
const SECRET = 'client-test-secret-at-least-32-bytes-long'

describe('client library authentication', () => {
  it('refreshes a short-lived token in-band through getToken(): one connection, every AAPL quote and trade in sequence', async () => {
    const dir = tempDir(), secretFile = join(dir, 'secret')
    writeFileSync(secretFile, SECRET)
    const sim = await simulator(running, 2000)
    const t = await tickcast(running, sim.port, {}, ['--auth-jwt-secret-file', secretFile, '--auth-expiry-warn-sec', '2', '--auth-clock-skew-sec', '0'])
    const hs = hsSigner(SECRET)
    let calls = 0
    const c = new TickcastClient({ url: t.url, WebSocket, pingIntervalMs: 0, getToken: async () => { calls++; return hs.sign({ sub: 'dana', symbols: ['AAPL'] }, 3) } })
    running.push({ stop: async () => c.close() })
    const states: ConnectionState[] = [], ns: number[] = [], gaps: unknown[] = []
    c.on('state', (s) => states.push(s)); c.on('gap', (g) => gaps.push(g))
    c.on('quote', (q) => { if (q.symbol === 'AAPL') ns.push(q.n) }); c.on('trade', (q) => { if (q.symbol === 'AAPL') ns.push(q.n) })
    c.subscribe(['AAPL'])
    c.connect()
    await sleep(5000) // tokens live 3 s, warned 2 s before: at least two refreshes, no 4402
    expect(calls).toBeGreaterThanOrEqual(3)
    expect(states).toEqual(['connecting', 'open'])
    expect(gaps).toEqual([])
    expect(ns.length).toBeGreaterThan(10)
    for (let i = 1; i < ns.length; i++) expect(ns[i]).toBe(ns[i - 1] + 1)
  }, 15_000)

  it('stops after 4401 instead of reconnecting with the same bad token', async () => {
    const dir = tempDir(), secretFile = join(dir, 'secret')
    writeFileSync(secretFile, SECRET)
    const sim = await simulator(running, 200)
    const t = await tickcast(running, sim.port, {}, ['--auth-jwt-secret-file', secretFile])
    const c = new TickcastClient({ url: t.url, WebSocket, pingIntervalMs: 0, token: 'wrong', reconnect: { minMs: 20, maxMs: 40 } })
    running.push({ stop: async () => c.close() })
    const errors: string[] = []
    c.on('error', (e) => errors.push(e.code))
    c.connect()
    await waitFor(() => c.state === 'closed', 5000, 'closed')
    await sleep(300)
    expect(c.stats.reconnects).toBe(0)
    expect(errors).toEqual(['AUTH'])
  })
})
