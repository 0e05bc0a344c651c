// The snapshot budget: unit arithmetic, then subscribe/unsubscribe churn of `*` over a real socket, which gets
// RATE_LIMITED once its bucket is in debt and pulls no more snapshots than the bucket and its refill allow.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { simulator, stopAll, tickcast } from '../../../test-support/harness.js'
import type { Stoppable } from '../../../test-support/harness.js'
import { SNAPSHOT_MIN_BURST, SNAPSHOT_SYMBOLS_PER_SEC, SnapshotBudget } from './snapshot-budget.js'

const running: Stoppable[] = []
afterEach(async () => { await stopAll(running) })

describe('snapshot budget', () => {
  it('lets one whole-universe snapshot through at once, then makes churn wait for the refill', () => {
    const b = new SnapshotBudget()
    expect(b.waitMs(30_000, 0)).toBe(0)
    b.spend(30_000) // the bucket starts full: the universe
    expect(b.waitMs(30_000, 0)).toBe(0) // exactly empty, not in debt
    b.spend(30_000)
    expect(b.waitMs(30_000, 0)).toBe(Math.ceil(30_000 * 1000 / SNAPSHOT_SYMBOLS_PER_SEC))
    expect(b.waitMs(30_000, 30_000 * 1000 / SNAPSHOT_SYMBOLS_PER_SEC)).toBe(0)
    const small = new SnapshotBudget()
    small.spend(SNAPSHOT_MIN_BURST) // a tiny universe still gets the minimum burst
    expect(small.waitMs(10, 0)).toBe(0)
  })

  it('refuses a * subscribe churner with RATE_LIMITED and bounds the snapshots it pulls', async () => {
    const sim = await simulator(running, 2000, 7, 500) // 500 symbols: churn of `*` empties the 2,000-symbol minimum bucket within a second
    const t = await tickcast(running, sim.port)
    for (let i = 0; i < 100 && t.symbols.size < 500; i++) await new Promise((r) => setTimeout(r, 50))
    const universe = t.symbols.size
    const ws = new WebSocket(t.url)
    let snaps = 0, limited = 0, on = false
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as unknown
      if (Array.isArray(m)) { for (const e of m as Array<{ e: string }>) if (e.e === 'snap') snaps++ } else if ((m as { code?: string }).code === 'RATE_LIMITED') limited++
    })
    await new Promise((r) => ws.once('open', r))
    const t0 = performance.now()
    while (performance.now() - t0 < 2000) {
      ws.send(JSON.stringify({ op: on ? 'unsubscribe' : 'subscribe', symbols: ['*'] })); on = !on
      await new Promise((r) => setTimeout(r, 40)) // 25 requests/s: under the control-message rate limit
    }
    await new Promise((r) => setTimeout(r, 300))
    const seconds = (performance.now() - t0) / 1000
    const allowed = Math.max(universe, SNAPSHOT_MIN_BURST) + universe + SNAPSHOT_SYMBOLS_PER_SEC * seconds
    console.log(`churn: ${snaps} snapshots in ${seconds.toFixed(1)} s (universe ${universe}), ${limited} RATE_LIMITED; unbudgeted: ~${Math.round(12.5 * seconds) * universe}, allowed ${Math.round(allowed)}`)
    expect(limited).toBeGreaterThan(0)
    expect(snaps).toBeLessThanOrEqual(allowed)
    ws.terminate()
  })
})
