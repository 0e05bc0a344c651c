import { describe, expect, it } from 'vitest'
import {
  HELD_BECAME_DIRTY, HELD_KEEP, HELD_SEND, HELD_SENT, HELD_TICK, HELD_UPDATE, HeldSymbol, LADDER_CATCHING_UP,
  LADDER_CATCH_UP, LADDER_CAUGHT_UP, LADDER_CLOSE, LADDER_CLOSED, LADDER_CONFLATE, LADDER_CONFLATING, LADDER_DRAIN,
  LADDER_DROPPED, LADDER_NORMAL, LADDER_RESUME, LADDER_SCAN, LADDER_STAY, LadderState, SNAPSHOT_FRAME_MAX_BYTES,
  SNAPSHOT_FRAME_MIN_BYTES, THROTTLE_TICK_MS, effectiveMaxAgeMs, effectiveMaxHz, maySendSnapshots, snapshotFrameBytes,
  stepHeld, stepLadder,
} from './writer.js'

// Every clock here is a number the test picks: the state machines never read one, so nothing sleeps.
const lim = { softBytes: 1000, hardBytes: 4000, graceMs: 500 }

function conflating(atMs: number): LadderState {
  const s = new LadderState()
  expect(stepLadder(s, LADDER_SCAN, 1001, atMs, lim)).toBe(LADDER_CONFLATE)
  return s
}

describe('slow-consumer ladder (pure)', () => {
  it('stays normal up to the soft limit and conflates at a scan over it, remembering when', () => {
    const s = new LadderState()
    expect(stepLadder(s, LADDER_SCAN, 1000, 0, lim)).toBe(LADDER_STAY)
    expect(stepLadder(s, LADDER_DRAIN, 3000, 0, lim)).toBe(LADDER_STAY) // a drain never starts the ladder
    expect(s.mode).toBe(LADDER_NORMAL)
    expect(stepLadder(s, LADDER_SCAN, 1001, 120, lim)).toBe(LADDER_CONFLATE)
    expect(s).toMatchObject({ mode: LADDER_CONFLATING, conflatingSinceMs: 120 })
    expect(stepLadder(s, LADDER_SCAN, 2000, 130, lim)).toBe(LADDER_STAY) // already conflating
  })

  it('catches up once drained below half the soft limit (scan or drain), then resumes when the catch-up is written', () => {
    for (const input of [LADDER_SCAN, LADDER_DRAIN]) {
      const s = conflating(0)
      expect(stepLadder(s, input, 501, 10, lim)).toBe(LADDER_STAY)
      expect(stepLadder(s, input, 500, 20, lim)).toBe(LADDER_CATCH_UP)
      expect(s.mode).toBe(LADDER_CATCHING_UP)
      expect(stepLadder(s, LADDER_SCAN, 900, 30, lim)).toBe(LADDER_STAY) // writing its catch-up, under the soft limit
      expect(stepLadder(s, LADDER_CAUGHT_UP, 0, 40, lim)).toBe(LADDER_RESUME)
      expect(s.mode).toBe(LADDER_NORMAL)
    }
  })

  it('conflates again when live updates push a catching-up connection over the soft limit', () => {
    const s = conflating(0)
    stepLadder(s, LADDER_DRAIN, 0, 100, lim)
    expect(stepLadder(s, LADDER_SCAN, 1001, 150, lim)).toBe(LADDER_CONFLATE)
    expect(s).toMatchObject({ mode: LADDER_CONFLATING, conflatingSinceMs: 150 })
  })

  it('closes a connection still conflating past slowGraceMs, and prefers catching up when it drained just in time', () => {
    const s = conflating(1000)
    expect(stepLadder(s, LADDER_SCAN, 900, 1500, lim)).toBe(LADDER_STAY) // exactly the grace: not past it
    expect(stepLadder(s, LADDER_DRAIN, 900, 9000, lim)).toBe(LADDER_STAY) // only the scan judges the grace
    expect(stepLadder(s, LADDER_SCAN, 900, 1501, lim)).toBe(LADDER_CLOSE)
    expect(s.mode).toBe(LADDER_CLOSED)
    const late = conflating(1000)
    expect(stepLadder(late, LADDER_SCAN, 400, 5000, lim)).toBe(LADDER_CATCH_UP)
  })

  it('closes at once over the hard limit or on a uWS drop, from every mode, and stays closed', () => {
    const modes = [new LadderState(), conflating(0), conflating(0)]
    stepLadder(modes[2], LADDER_DRAIN, 0, 1, lim) // catching up
    for (const s of modes) expect(stepLadder(s, LADDER_SCAN, 4001, 2, lim)).toBe(LADDER_CLOSE)
    const d = new LadderState()
    expect(stepLadder(d, LADDER_DROPPED, 0, 0, lim)).toBe(LADDER_CLOSE)
    for (const input of [LADDER_SCAN, LADDER_DRAIN, LADDER_DROPPED, LADDER_CAUGHT_UP]) expect(stepLadder(d, input, 0, 0, lim)).toBe(LADDER_STAY)
    expect(d.mode).toBe(LADDER_CLOSED)
  })

  it('lets snapshot bursts out only at most half the soft limit, in frames that cannot cross it by themselves', () => {
    const s = new LadderState()
    expect(maySendSnapshots(s, 500, lim)).toBe(true)
    expect(maySendSnapshots(s, 501, lim)).toBe(false)
    const c = conflating(0)
    expect(maySendSnapshots(c, 0, lim)).toBe(false) // a conflating reader gets nothing
    stepLadder(c, LADDER_DRAIN, 0, 1, lim)
    expect(maySendSnapshots(c, 0, lim)).toBe(true) // its catch-up is paced the same way
    expect(snapshotFrameBytes({ ...lim, softBytes: 1 << 20 })).toBe(SNAPSHOT_FRAME_MAX_BYTES)
    expect(snapshotFrameBytes({ ...lim, softBytes: 32 * 1024 })).toBe(16 * 1024)
    expect(snapshotFrameBytes(lim)).toBe(SNAPSHOT_FRAME_MIN_BYTES)
  })
})

describe('held-symbol throttle (pure)', () => {
  function throttled(minIntervalMs: number, maxAgeMs: number, lastSentMs: number): HeldSymbol {
    const h = new HeldSymbol(7)
    h.minIntervalMs = minIntervalMs; h.maxAgeMs = maxAgeMs; h.lastSentMs = lastSentMs
    return h
  }

  it('counts trades while held and reports only the first change, keeping its time', () => {
    const h = new HeldSymbol(3)
    expect(stepHeld(h, HELD_UPDATE, 10, 2)).toBe(HELD_BECAME_DIRTY)
    expect(stepHeld(h, HELD_UPDATE, 15, 0)).toBe(HELD_KEEP)
    expect(stepHeld(h, HELD_UPDATE, 20, 3)).toBe(HELD_KEEP)
    expect(h).toMatchObject({ dirty: true, trades: 5, firstDirtyMs: 10 })
    expect(stepHeld(h, HELD_TICK, 1e9)).toBe(HELD_KEEP) // not throttled: conflation waits for the catch-up
    h.owed = true
    stepHeld(h, HELD_SENT, 30)
    expect(h).toMatchObject({ dirty: false, trades: 0, lastSentMs: 30, owed: false })
  })

  it('maxHz: a change is due one interval after the last value, or at once after a quiet spell', () => {
    const h = throttled(50, 0, 0) // 20 Hz, the subscribe snapshot went at t = 0
    expect(stepHeld(h, HELD_TICK, 10)).toBe(HELD_KEEP) // clean: nothing to send
    stepHeld(h, HELD_UPDATE, 5, 1)
    expect(stepHeld(h, HELD_TICK, 40)).toBe(HELD_KEEP)
    expect(stepHeld(h, HELD_TICK, 49)).toBe(HELD_SEND) // timers fire up to 1 ms early
    expect(stepHeld(h, HELD_TICK, 49)).toBe(HELD_KEEP) // counted as clean once due: sent once
    stepHeld(h, HELD_SENT, 49)
    stepHeld(h, HELD_UPDATE, 500, 0) // quiet for a while: the next change goes at the next tick
    expect(stepHeld(h, HELD_TICK, 500)).toBe(HELD_SEND)
  })

  it('maxAgeMs: a change waits as long as the budget allows, a tick early', () => {
    const h = throttled(0, 100, 0)
    stepHeld(h, HELD_UPDATE, 3, 0)
    expect(stepHeld(h, HELD_TICK, 91)).toBe(HELD_KEEP)
    expect(stepHeld(h, HELD_TICK, 3 + 100 - THROTTLE_TICK_MS - 1)).toBe(HELD_SEND)
  })

  it('an owed snapshot goes first: a due throttled symbol waits for it', () => {
    const h = throttled(10, 0, 0)
    stepHeld(h, HELD_UPDATE, 1, 0)
    h.owed = true
    expect(stepHeld(h, HELD_TICK, 100)).toBe(HELD_KEEP)
  })

  it('clamps the asked rates to what the throttle timer can keep', () => {
    expect([effectiveMaxHz(5000), effectiveMaxHz(20), effectiveMaxHz(0)]).toEqual([100, 20, 0])
    expect(effectiveMaxAgeMs(0, 1)).toBe(THROTTLE_TICK_MS)
    expect(effectiveMaxAgeMs(100, 1)).toBe(20) // one interval (10 ms) plus a tick
    expect(effectiveMaxAgeMs(20, 0)).toBe(0)
    expect(effectiveMaxAgeMs(0, 250)).toBe(250)
  })
})
