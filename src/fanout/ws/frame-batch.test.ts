import { pack, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { BATCH_JSON, BATCH_MSGPACK, BATCH_TEXT, FrameBatch } from './frame-batch.js'
import type { BatchMember } from './frame-batch.js'

/** A member that keeps what it was sent: each frame decoded, with its kind and size. */
class Member implements BatchMember {
  pending: Int32Array | null = null
  pendingCount = 0
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
})
