// Client failover between two real nodes reading the same feed: per-symbol n is the same on both, so the client
// resumes on the other node with `since` (recovered: true) and its update stream stays contiguous.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../../test-support/wait-for.js'
import { TickcastClient } from './tickcast-client.js'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('TickcastClient failover with resume', () => {
  it.each(['json', 'msgpack'] as const)('%s: a node dies, the client moves to the next url and resumes with n continuous', async (format) => {
    const sim = await simulator(running, 2000, 11, 10)
    // both nodes read the same feed session from its start: one stream, so one epoch
    const a = await tickcast(running, sim.port, {}, ['--stream-epoch', 'sim-11']), b = await tickcast(running, sim.port, {}, ['--stream-epoch', 'sim-11'])
    await waitFor(() => a.symbols.size === 10 && b.symbols.size === 10, 5000, 'the directory on both nodes')
    const syms = a.symbols.name.slice(0, 4)
    const c = new TickcastClient({ url: [a.url, b.url], format, WebSocket, reconnect: { minMs: 20, maxMs: 100 }, pingIntervalMs: 0 })
    running.push({ stop: async () => c.close() })
    const last = new Map<string, number>(), breaks: string[] = []
    let snapshots = 0, updates = 0
    c.on('snapshot', (s) => { snapshots++; last.set(s.symbol, s.n) })
    const onUpdate = (u: { symbol: string; n: number }): void => {
      const prev = last.get(u.symbol)
      if (prev === undefined || u.n !== prev + 1) breaks.push(`${u.symbol}: ${prev} → ${u.n}`)
      last.set(u.symbol, u.n); updates++
    }
    c.on('quote', onUpdate); c.on('trade', onUpdate); c.on('status', onUpdate)
    c.subscribe(syms)
    c.connect()
    await waitFor(() => snapshots === 4 && updates >= 40, 5000, 'snapshots and 40 updates on the first node')
    expect(c.url.startsWith(a.url)).toBe(true)
    const before = updates
    await a.stop()
    await waitFor(() => c.url.startsWith(b.url) && c.state === 'open' && updates >= before + 40, 5000, 'updates from the second node')
    expect(c.stats.recovered).toBe(4)
    expect(c.stats.unrecovered).toBe(0)
    expect(snapshots).toBe(4) // no new snapshot: resumed from the ring
    expect(breaks).toEqual([])
  })
})
