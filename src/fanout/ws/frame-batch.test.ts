import { pack, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { BATCH_JSON, BATCH_MSGPACK, BATCH_TEXT, FrameBatch } from './frame-batch.js'
import type { BatchMember } from './frame-batch.js'

/** A member that keeps what it was sent: each frame decoded, with its kind and size. */
class Member implements BatchMember {
  pending: Int32Array | null = null
  pendingCount = 0
  flushDue = -1
  listedMs = -1
  readonly frames: Array<{ binary: boolean; bytes: number; value: unknown }> = []
  deliver(frame: Uint8Array, isBinary: boolean): void {
    const copy = Buffer.from(frame) // the batch reuses its buffer
    this.frames.push({ binary: isBinary, bytes: copy.length, value: isBinary ? unpack(copy) : JSON.parse(copy.toString()) })
  }
  get events(): unknown[] { return this.frames.flatMap((f) => (Array.isArray(f.value) ? f.value : [])) }
}

const json = (events: unknown[]) => Buffer.from(JSON.stringify(events))
/** msgpack frames as the dispatcher writes them: an array16 header whatever the count */
function msgpack(events: unknown[]): Buffer {
  const body = Buffer.concat(events.map((e) => pack(e)))
  const h = Buffer.from([0xdc, 0, 0]); h.writeUInt16BE(events.length, 1)
  return Buffer.concat([h, body])
}

describe('FrameBatch', () => {
  it("merges a drain's frames per member into one frame, in publish order, in both formats", () => {
    const b = new FrameBatch(), a = new Member(), c = new Member(), m = new Member()
    b.add(json([{ s: 'AAPL', n: 1 }, { s: 'AAPL', n: 2 }]), BATCH_JSON, [a, c])
    b.add(json([{ s: 'MSFT', n: 7 }]), BATCH_JSON, [a])
    b.add(msgpack([{ s: 'AAPL', n: 1 }, { s: 'AAPL', n: 2 }]), BATCH_MSGPACK, [m])
    b.add(msgpack(Array.from({ length: 20 }, (_, k) => ({ s: 'MSFT', n: k + 1 }))), BATCH_MSGPACK, [m])
    expect(b.pending).toBe(true)
    b.flush()
    expect(a.frames).toEqual([{ binary: false, bytes: expect.any(Number), value: [{ s: 'AAPL', n: 1 }, { s: 'AAPL', n: 2 }, { s: 'MSFT', n: 7 }] }])
    expect(c.frames.map((f) => f.value)).toEqual([[{ s: 'AAPL', n: 1 }, { s: 'AAPL', n: 2 }]])
    expect(m.frames).toHaveLength(1)
    expect(m.frames[0].binary).toBe(true)
    expect(m.events).toEqual([{ s: 'AAPL', n: 1 }, { s: 'AAPL', n: 2 }, ...Array.from({ length: 20 }, (_, k) => ({ s: 'MSFT', n: k + 1 }))])
    expect([b.framesSent, b.framesMerged]).toEqual([3, 5])
    expect(b.pending).toBe(false)
    b.flush() // nothing left: nothing sent twice
    expect(a.frames).toHaveLength(1)
  })

  it('starts a new frame at the size cap and sends a control text frame alone, in order', () => {
    const b = new FrameBatch(150), a = new Member() // two of these events fit, three do not
    const big = Array.from({ length: 6 }, (_, k) => json([{ s: `S${k}`, n: 1, pad: 'x'.repeat(40) }]))
    b.add(big[0], BATCH_JSON, [a]); b.add(big[1], BATCH_JSON, [a])
    b.add(Buffer.from('{"type":"trades_skipped","symbol":"S2","count":3}'), BATCH_TEXT, [a])
    for (const f of big.slice(2)) b.add(f, BATCH_JSON, [a])
    b.flush()
    expect(a.frames.every((f) => f.bytes <= 150)).toBe(true)
    expect(a.frames[1].value).toEqual({ type: 'trades_skipped', symbol: 'S2', count: 3 })
    expect(a.frames.map((f) => (Array.isArray(f.value) ? f.value.length : 'ctl'))).toEqual([2, 'ctl', 2, 2])
    expect(a.events.map((e) => (e as { s: string }).s)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5'])
  })

  it("writes one member's frames at once when it is about to send something itself, and only once", () => {
    const b = new FrameBatch(), a = new Member(), c = new Member()
    b.add(json([{ s: 'AAPL', n: 1 }]), BATCH_JSON, [a, c])
    b.add(json([{ s: 'MSFT', n: 1 }]), BATCH_JSON, [a, c])
    b.flushMember(a)
    expect(a.frames.map((f) => f.value)).toEqual([[{ s: 'AAPL', n: 1 }, { s: 'MSFT', n: 1 }]])
    expect(c.frames).toEqual([])
    b.add(json([{ s: 'AAPL', n: 2 }]), BATCH_JSON, [a])
    b.flush()
    expect(a.frames.map((f) => f.value)).toEqual([[{ s: 'AAPL', n: 1 }, { s: 'MSFT', n: 1 }], [{ s: 'AAPL', n: 2 }]])
    expect(c.frames.map((f) => f.value)).toEqual([[{ s: 'AAPL', n: 1 }, { s: 'MSFT', n: 1 }]])
  })

  it('holds a drain of any size: its byte arena and frame table grow', () => {
    const b = new FrameBatch(), a = new Member()
    const frames = Array.from({ length: 3000 }, (_, k) => json([{ s: `S${k % 500}`, n: k, pad: 'y'.repeat(100) }]))
    for (const f of frames) b.add(f, BATCH_JSON, [a])
    b.flush()
    expect(a.events).toHaveLength(3000)
    expect(a.events.map((e) => (e as { n: number }).n)).toEqual(Array.from({ length: 3000 }, (_, k) => k))
    expect(a.frames.every((f) => f.bytes <= 64 * 1024)).toBe(true)
  })

  describe('with a frame interval', () => {
    /** A member that also notes when (on the test's clock) each of its frames went. */
    class TimedMember extends Member {
      readonly at: number[] = []
      constructor(private readonly clock: { ms: number }) { super() }
      override deliver(frame: Uint8Array, isBinary: boolean): void { this.at.push(this.clock.ms); super.deliver(frame, isBinary) }
    }
    const q = (s: string, n: number) => json([{ s, n }])

    it("sends a quiet member's first frame at the drain's end, then at most one merged frame per interval, losing nothing", () => {
      const clock = { ms: 1000 }, b = new FrameBatch(64 * 1024, 40, () => clock.ms), a = new TimedMember(clock)
      b.add(q('AAPL', 1), BATCH_JSON, [a]); b.endDrain()
      expect(a.at).toEqual([1000]) // nothing to wait for: it was quiet
      for (let n = 2; n <= 200; n++) { clock.ms += 2; b.add(q('AAPL', n), BATCH_JSON, [a]); b.endDrain() }
      clock.ms += 40; b.scan()
      expect(a.at[1] - 1000).toBeGreaterThanOrEqual(20) // its phase: in the second half of the interval
      expect(a.at[1] - 1000).toBeLessThanOrEqual(40)
      const gaps = a.at.slice(2).map((t, k) => t - a.at[k + 1])
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(40) // never more often than the interval
      expect(Math.max(...gaps.slice(0, -1))).toBeLessThanOrEqual(42) // and on its phase (the clock steps 2 ms)
      expect(a.frames.length).toBeLessThan(15) // 200 events in 400 ms
      expect(a.events.map((e) => (e as { n: number }).n)).toEqual(Array.from({ length: 200 }, (_, k) => k + 1))
      expect(b.pending).toBe(false)
    })

    it('spreads members that start together over the interval: their sends go a few at a time', () => {
      const clock = { ms: 0 }, b = new FrameBatch(64 * 1024, 40, () => clock.ms)
      const ms = Array.from({ length: 100 }, () => new TimedMember(clock))
      let n = 0
      for (; clock.ms < 400; clock.ms++) { b.add(q('AAPL', ++n), BATCH_JSON, ms); b.endDrain() }
      const perMs = new Map<number, number>()
      for (const m of ms) for (const t of m.at.filter((t) => t >= 200)) perMs.set(t, (perMs.get(t) ?? 0) + 1)
      expect(Math.max(...perMs.values())).toBeLessThanOrEqual(10) // not 100 at once
      expect(perMs.size).toBeGreaterThanOrEqual(15) // the phases cover the interval
      for (const m of ms) {
        const later = m.at.filter((t) => t >= 100)
        expect(later.length).toBeGreaterThanOrEqual(7) // 300 ms at one frame per 40 ms
        expect(later.length).toBeLessThanOrEqual(8)
      }
    })

    it('keeps every frame across generations while members flush at different phases, then frees them', () => {
      const clock = { ms: 0 }, b = new FrameBatch(64 * 1024, 25, () => clock.ms)
      const ms = Array.from({ length: 30 }, () => new TimedMember(clock))
      const want: number[][] = ms.map(() => [])
      let seed = 7
      const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
      for (let n = 1; n <= 3000; n++) {
        const to = ms.filter(() => rand() < 0.3)
        b.add(q(`S${n % 17}`, n), BATCH_JSON, to)
        for (const m of to) want[ms.indexOf(m)].push(n)
        if (n % 7 === 0) { clock.ms += 1 + Math.floor(rand() * 3); b.endDrain() }
        if (n % 500 === 0) b.flushMember(ms[n % 30]) // a reply: its frames go first, whatever its phase
      }
      for (let k = 0; k < 50 && b.pending; k++) { clock.ms += 5; b.scan() }
      expect(b.pending).toBe(false)
      ms.forEach((m, k) => expect(m.events.map((e) => (e as { n: number }).n)).toEqual(want[k]))
      expect(b.heldBytes).toBe(0) // both generations emptied once nothing waits
    })

    it('grows either generation while the other holds frames, and every byte arrives as published', () => {
      const clock = { ms: 0 }, b = new FrameBatch(64 * 1024, 40, () => clock.ms)
      const ms = Array.from({ length: 12 }, () => new TimedMember(clock))
      const want: string[][] = ms.map(() => [])
      let seed = 3
      const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
      for (let n = 1; n <= 1500; n++) {
        const pad = String.fromCharCode(97 + (n % 26)).repeat(Math.floor(rand() * n * 16)) // growing, up to 24 KB: each generation outgrows the last
        const to = ms.filter(() => rand() < 0.4)
        b.add(json([{ s: `S${n % 7}`, n, pad }]), BATCH_JSON, to)
        for (const m of to) want[ms.indexOf(m)].push(`${n}:${pad.length}`)
        if (n % 4 === 0) { clock.ms += 1 + Math.floor(rand() * 4); b.endDrain() }
      }
      for (let k = 0; k < 50 && b.pending; k++) { clock.ms += 5; b.scan() }
      expect(b.pending).toBe(false)
      ms.forEach((m, k) => expect(m.events.map((e) => {
        const { n, pad } = e as { n: number; pad: string }
        return pad === String.fromCharCode(97 + (n % 26)).repeat(pad.length) ? `${n}:${pad.length}` : `${n}: corrupt`
      })).toEqual(want[k]))
    })

    it('writes every member by its due ms through early writes and pauses longer than its wheel of slots', () => {
      const clock = { ms: 5 }, interval = 10, b = new FrameBatch(64 * 1024, interval, () => clock.ms)
      const ms = Array.from({ length: 40 }, () => new TimedMember(clock))
      const want: number[][] = ms.map(() => [])
      let seed = 11
      const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
      let late = 0, checks = 0
      const early = ms.map(() => 0)
      /** after a scan at the clock's ms, no member with frames is due (the hub's timer runs the next at nextDueMs) */
      const noneOverdue = () => {
        for (const m of ms) {
          if (m.pendingCount === 0) continue
          checks++
          const wait = m.flushDue - Math.floor(clock.ms)
          if (wait <= 0 || wait > interval || b.nextDueMs > m.flushDue) late++
        }
      }
      for (let n = 1; n <= 6000; n++) {
        const to = ms.filter(() => rand() < 0.2)
        b.add(q(`S${n % 13}`, n), BATCH_JSON, to)
        for (const m of to) want[ms.indexOf(m)].push(n)
        if (n % 5 === 0) { b.endDrain(); noneOverdue() }
        if (n % 97 === 0) { b.flushMember(ms[n % 40]); early[n % 40]++ } // a reply goes first: its member moves phase
        const step = n % 1000 === 0 ? 30 + Math.floor(rand() * 70) : rand() < 0.3 ? 1 + Math.floor(rand() * 3) : 0
        for (let t = 0; t < step; t++) { clock.ms++; if (b.pending && clock.ms >= b.nextDueMs) { b.scan(); noneOverdue() } }
      }
      for (let k = 0; k < 50 && b.pending; k++) { clock.ms += 1; b.scan() }
      expect(checks).toBeGreaterThan(10_000)
      expect(late).toBe(0)
      expect(b.pending).toBe(false)
      ms.forEach((m, k) => expect(m.events.map((e) => (e as { n: number }).n)).toEqual(want[k]))
      ms.forEach((m, k) => { // one frame per interval on average: a late one (nothing was due) keeps its phase
        const short = m.at.slice(2).filter((t, j) => t - m.at[j] < interval).length
        expect(short).toBeLessThanOrEqual(2 * early[k] + 1) // a reply's early write may come anywhere
      })
    })

    it('writes what waits at once when the server closes (flush)', () => {
      const clock = { ms: 0 }, b = new FrameBatch(64 * 1024, 1000, () => clock.ms), a = new TimedMember(clock)
      b.add(q('AAPL', 1), BATCH_JSON, [a]); b.endDrain()
      clock.ms = 10; b.add(q('AAPL', 2), BATCH_JSON, [a]); b.endDrain()
      expect(a.events).toHaveLength(1)
      b.flush()
      expect(a.events.map((e) => (e as { n: number }).n)).toEqual([1, 2])
      expect(b.pending).toBe(false)
    })
  })
})
