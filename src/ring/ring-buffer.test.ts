import { describe, expect, it } from 'vitest'
import { BootError } from '../errors.js'
import { TickRing } from './ring-buffer.js'

describe('TickRing', () => {
  it('rejects capacities that are not powers of two in range', () => {
    for (const bad of [0, 1, 3, 1000, 2 ** 27, 1.5, -8]) expect(() => new TickRing(bad), String(bad)).toThrow(BootError)
    expect(new TickRing(1024).mask).toBe(1023)
  })

  it('wraps slot indices past capacity while the cursor keeps counting', () => {
    const r = new TickRing(4)
    const slots: number[] = []
    for (let k = 0; k < 10; k++) { const i = r.nextSlot(); r.symbolId[i] = k; r.advance(); slots.push(i) }
    expect(slots).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    expect(r.cursor).toBe(9)
    // the newest `capacity` events are intact
    expect([6, 7, 8, 9].map((seq) => r.symbolId[seq & r.mask])).toEqual([6, 7, 8, 9])
  })

  it('lives on SharedArrayBuffers so fan-out threads can read it', () => {
    expect(new TickRing(8).bidPrice.buffer).toBeInstanceOf(SharedArrayBuffer)
  })

  it('publishes the cursor to other threads once per commit, exact past 2^32, through a mapped handle', () => {
    const w = new TickRing(8), r = new TickRing(8, w.handle())
    expect(r.loadSharedCursor()).toBe(-1)
    w.symbolId[w.nextSlot()] = 42; w.advance()
    expect(r.loadSharedCursor()).toBe(-1) // published but not committed: other threads do not see it yet
    const g = r.sharedGeneration()
    w.commit()
    expect(r.loadSharedCursor()).toBe(0)
    expect(r.symbolId[0]).toBe(42) // same memory
    expect(r.sharedGeneration()).not.toBe(g)
    w.cursor = 2 ** 32 + 5; w.commit()
    expect(r.loadSharedCursor()).toBe(2 ** 32 + 5)
    w.cursor = 2 ** 52; w.commit()
    expect(r.loadSharedCursor()).toBe(2 ** 52)
  })

  it('reports NaN, not a torn value, while the writer holds the seqlock', () => {
    const w = new TickRing(8)
    w.cursor = 3; w.commit()
    Atomics.add(w.shared, 0, 1) // a writer mid-update
    expect(w.loadSharedCursor()).toBeNaN()
    Atomics.add(w.shared, 0, 1)
    expect(w.loadSharedCursor()).toBe(3)
  })
})
