import { describe, expect, it } from 'vitest'
import { FRAMER_BAD_LENGTH, FRAMER_OK, FRAMER_STOPPED, Framer } from './framer.js'
import { randomInt, seededRandom } from '../../test-support/seeded-random.js'

/** A stream of `count` frames with bodies of 1..maxBody bytes; body byte k of frame i = (i * 31 + k) & 255. */
function stream(count: number, maxBody: number, seed: number): { bytes: Buffer, bodies: Buffer[] } {
  const rnd = seededRandom(seed), bodies: Buffer[] = [], parts: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const len = randomInt(rnd, 1, maxBody), b = Buffer.alloc(len)
    for (let k = 0; k < len; k++) b[k] = (i * 31 + k) & 255
    const h = Buffer.alloc(2); h.writeUInt16BE(len, 0)
    bodies.push(b); parts.push(h, b)
  }
  return { bytes: Buffer.concat(parts), bodies }
}

/** Pushes the chunks and returns every frame body handed out, as hex (cheap to compare). */
function frames(chunks: Buffer[], max = 65535): { out: string[], status: number[] } {
  const out: string[] = [], status: number[] = []
  const f = new Framer((buf, off, len) => { out.push(buf.toString('hex', off, off + len)) }, max)
  for (const c of chunks) status.push(f.push(c))
  return { out, status }
}
const hex = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'))

function cutEvery(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size))
  return out
}

describe('Framer', () => {
  const { bytes, bodies } = stream(500, 90, 7)

  it('yields identical frames wherever the TCP stream is cut (split sizes 1..64)', () => {
    const whole = frames([bytes]).out
    expect(whole).toEqual(hex(bodies))
    for (let cut = 1; cut <= 64; cut++) {
      const r = frames(cutEvery(bytes, cut))
      expect(r.out, 'cut ' + cut).toEqual(whole)
      expect(r.status.every((s) => s === FRAMER_OK)).toBe(true)
    }
  })

  it('yields identical frames at random cut points, including empty chunks', () => {
    const rnd = seededRandom(42)
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = []
      for (let i = 0; i < bytes.length;) {
        const n = randomInt(rnd, 0, 300)
        chunks.push(bytes.subarray(i, i + n)); i += n
      }
      expect(frames(chunks).out).toEqual(hex(bodies))
    }
  })

  it('reassembles frames that span several chunks, up to the 65,535-byte maximum', () => {
    const big = Buffer.alloc(2 + 65535)
    big.writeUInt16BE(65535, 0)
    for (let k = 0; k < 65535; k++) big[2 + k] = (k * 7) & 255
    const f = frames(cutEvery(Buffer.concat([big, bytes]), 1000))
    expect(f.out[0]).toEqual(big.toString('hex', 2))
    expect(f.out.slice(1)).toEqual(hex(bodies))
  })

  it('reports a zero length as a bad frame and keeps refusing until reset', () => {
    const got: number[] = []
    const f = new Framer((buf, off) => { got.push(buf[off]) })
    expect(f.push(Buffer.from([0, 1, 0x48, 0, 0, 0, 1, 0x48]))).toBe(FRAMER_BAD_LENGTH)
    expect(got).toEqual([0x48])
    expect(f.push(Buffer.from([0, 1, 0x48]))).toBe(FRAMER_BAD_LENGTH)
    f.reset()
    expect(f.push(Buffer.from([0, 1, 0x52]))).toBe(FRAMER_OK)
    expect(got).toEqual([0x48, 0x52])
  })

  it('reports an over-maximum length as bad, also when the length itself is split', () => {
    const f = new Framer(() => {}, 100)
    expect(f.push(Buffer.from([0, 101, 1]))).toBe(FRAMER_BAD_LENGTH)
    const g = new Framer(() => {}, 100)
    expect(g.push(Buffer.from([0]))).toBe(FRAMER_OK)
    expect(g.carried).toBe(1)
    expect(g.push(Buffer.from([101]))).toBe(FRAMER_BAD_LENGTH)
    const h = new Framer(() => {}, 100)
    expect(h.push(Buffer.from([0]))).toBe(FRAMER_OK)
    expect(h.push(Buffer.from([0]))).toBe(FRAMER_BAD_LENGTH)
  })

  it('discards a partial frame on reset and stops a chunk when the handler resets', () => {
    const got: number[] = []
    const f: Framer = new Framer((buf, off) => { got.push(buf[off]); if (buf[off] === 0x5a) f.reset() })
    expect(f.push(Buffer.from([0, 5, 1, 2]))).toBe(FRAMER_OK)
    expect(f.carried).toBe(4)
    f.reset()
    expect(f.carried).toBe(0)
    expect(f.push(Buffer.from([0, 1, 0x48, 0, 1, 0x5a, 0, 1, 0x53]))).toBe(FRAMER_STOPPED)
    expect(got).toEqual([0x48, 0x5a])
  })

  it('hands out frames inside a chunk as views, without copying', () => {
    const chunk = Buffer.from([0, 2, 0x53, 9, 0, 1, 0x48])
    const seen: Buffer[] = []
    new Framer((buf) => { seen.push(buf) }).push(chunk)
    expect(seen.length).toBe(2)
    expect(seen[0]).toBe(chunk)
  })
})
