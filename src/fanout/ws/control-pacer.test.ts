// The control budget per turn: work over it waits for later turns, each connection's messages stay in order, waiting
// connections take turns, and nothing waits once the budget is free again.
import { describe, expect, it } from 'vitest'
import { ControlPacer } from './control-pacer.js'
import type { PacedConnection } from './control-pacer.js'

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** A connection whose messages each cost `cost` and log "name:k" when they run; queued like connection.ts does. */
function conn(pacer: ControlPacer, name: string, cost: number, log: string[]): PacedConnection & { message(k: number): void } {
  let pending: number[] | null = null
  const run = (k: number): void => { log.push(`${name}:${k}`); pacer.spend(cost) }
  const c = {
    message(k: number): void {
      if (pending !== null || !pacer.mayRun()) { if (pending === null) { pending = []; pacer.defer(c) } pending.push(k); return }
      run(k)
    },
    runPending(): boolean {
      run(pending!.shift()!)
      if (pending!.length > 0) return true
      pending = null
      return false
    },
  }
  return c
}

describe('ControlPacer', () => {
  it('runs what fits in a turn, defers the rest in order, round-robin, and drains over later turns', async () => {
    const pacer = new ControlPacer(1000), log: string[] = []
    const a = conn(pacer, 'a', 600, log), b = conn(pacer, 'b', 600, log)
    // one turn (as uWS delivers a burst): a:1 and b:1 start (the budget is not spent before b:1 starts), the rest waits
    a.message(1); b.message(1); a.message(2); b.message(2); a.message(3)
    expect(log).toEqual(['a:1', 'b:1'])
    expect(pacer.backlog).toBe(2)
    for (let i = 0; i < 5 && pacer.backlog > 0; i++) await nextTurn()
    expect(log).toEqual(['a:1', 'b:1', 'a:2', 'b:2', 'a:3'])
    expect(pacer.backlog).toBe(0)
    // a fresh turn with nothing waiting: runs at once
    await nextTurn()
    a.message(4)
    expect(log.at(-1)).toBe('a:4')
  })

  it('never starts a message of a connection that has one waiting before it', async () => {
    const pacer = new ControlPacer(100), log: string[] = []
    const a = conn(pacer, 'a', 150, log)
    a.message(1); a.message(2)
    await nextTurn() // the budget refills; a:2 runs in the turn
    a.message(3) // budget spent by a:2 in this turn: waits, after nothing else
    for (let i = 0; i < 5 && pacer.backlog > 0; i++) await nextTurn()
    expect(log).toEqual(['a:1', 'a:2', 'a:3'])
  })
})
