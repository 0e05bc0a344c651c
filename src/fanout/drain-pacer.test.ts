import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DrainPacer, PACER_BACKLOG_EVENTS } from './drain-pacer.js'

describe('DrainPacer', () => {
  let clock = 0, drains: number[] = [], pacer: DrainPacer
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] })
    clock = 1000; drains = []
    pacer = new DrainPacer(() => { pacer.started(); drains.push(clock) }, () => clock)
  })
  afterEach(() => { vi.useRealTimers() })
  const advance = (ms: number): void => { clock += ms; vi.advanceTimersByTime(ms) }

  it('drains at the next turn after a wake-up, once for many wake-ups, when not paced', () => {
    pacer.wake(1); pacer.wake(2); pacer.wake(3)
    expect(drains).toEqual([])
    vi.runAllTicks(); advance(0)
    expect(drains).toEqual([1000])
  })

  it('paced: the first wake-up after a quiet spell drains at once, the next ones no sooner than the interval after it', () => {
    pacer.pace(20)
    pacer.wake(1); advance(0)
    expect(drains).toEqual([1000])
    advance(10); pacer.wake(1); pacer.wake(2) // 10 ms after the last drain: waits 10 more
    advance(9)
    expect(drains).toEqual([1000])
    advance(1)
    expect(drains).toEqual([1000, 1020])
    advance(50); pacer.wake(1); advance(0) // quiet for longer than the interval: at once again
    expect(drains).toEqual([1000, 1020, 1070])
  })

  it('paced: a backlog of a quarter drain does not wait for the timer, whether it comes first or while waiting', () => {
    pacer.pace(20)
    pacer.wake(1); advance(0)
    advance(5); pacer.wake(PACER_BACKLOG_EVENTS); advance(0)
    expect(drains).toEqual([1000, 1005])
    advance(5); pacer.wake(10); advance(1) // waiting on its timer (until 1025)
    expect(drains).toEqual([1000, 1005])
    pacer.wake(PACER_BACKLOG_EVENTS); advance(0)
    expect(drains).toEqual([1000, 1005, 1011])
    advance(30) // the cancelled timer does not drain again
    expect(drains).toEqual([1000, 1005, 1011])
  })

  it('a bounded drain\'s rest goes at the next turn even when paced, and a drain run by hand cancels the waiting timer', () => {
    pacer.pace(20)
    pacer.wake(1); advance(0)
    pacer.soon(); advance(0)
    expect(drains).toEqual([1000, 1000])
    advance(2); pacer.wake(1) // timer until 1020
    pacer.started(); drains.push(clock) // a test or bench drains synchronously
    advance(40)
    expect(drains).toEqual([1000, 1000, 1002])
  })

  it('paced: a timer that fires early (Node starts timers from a stale loop time) waits out the rest of the interval', () => {
    pacer.pace(20)
    pacer.wake(1); advance(0)
    advance(10); pacer.wake(1) // due at 1020, timer in 10 ms
    clock += 7; vi.advanceTimersByTime(10) // the timer fires when the clock says 1017
    expect(drains).toEqual([1000])
    advance(3)
    expect(drains).toEqual([1000, 1020])
  })

  it('busy share: a drain of d ms spaces the next d / share after its start, never closer than the interval nor beyond 100 ms', () => {
    let costMs = 6
    pacer = new DrainPacer(() => { pacer.started(); drains.push(clock); clock += costMs; pacer.finished() }, () => clock)
    pacer.pace(0, 0.5)
    pacer.wake(1); advance(0) // nothing measured yet: at once; it took 6 ms (1000–1006)
    pacer.wake(1); advance(5) // 1011: 11 ms after it began, 12 asked
    expect(drains).toEqual([1000])
    advance(1)
    expect(drains).toEqual([1000, 1012])
    costMs = 1; advance(20); pacer.wake(1); advance(0) // a quiet spell: at once (1038); a 1 ms drain asks 2 ms
    pacer.wake(1); advance(1)
    expect(drains).toEqual([1000, 1012, 1038, 1040])
    pacer.pace(10, 0.5); pacer.wake(1); advance(9) // the interval is the floor: 10 ms after 1040
    expect(drains.at(-1)).toBe(1050)
    costMs = 80; pacer.wake(1); advance(9) // 1060, done at 1140: it asks 160 ms, capped at 100
    pacer.wake(1); advance(19)
    expect(drains.at(-1)).toBe(1060)
    advance(1)
    expect(drains.at(-1)).toBe(1160)
  })

  it('busy share: a backlog of a quarter drain still goes at once', () => {
    pacer = new DrainPacer(() => { pacer.started(); drains.push(clock); clock += 8; pacer.finished() }, () => clock)
    pacer.pace(0, 0.25)
    pacer.wake(1); advance(0)
    pacer.wake(PACER_BACKLOG_EVENTS); advance(0)
    expect(drains).toEqual([1000, 1008])
  })

  it('never drains after stop, and stop cancels a waiting timer', () => {
    pacer.pace(20)
    pacer.wake(1); advance(0)
    pacer.wake(1); pacer.stop(); advance(50)
    pacer.wake(1); pacer.soon(); advance(50)
    expect(drains).toEqual([1000])
  })
})
