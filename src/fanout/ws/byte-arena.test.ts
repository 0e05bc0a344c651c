import { describe, expect, it } from 'vitest'
import { ByteArena } from './byte-arena.js'

const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, k) => (k * 31 + seed) & 0xff))

describe.each([true, false])('ByteArena (WebAssembly: %s)', (wasm) => {
  it('copies within its memory as memmove does, overlapping either way', () => {
    const a = new ByteArena(1024, { wasm }), src = pattern(300, 7)
    expect(a.wasm).toBe(wasm)
    src.copy(a.bytes, 100)
    a.copy(150, 100, 400) // forward overlap: the destination starts inside the source
    expect(Buffer.compare(a.bytes.subarray(150, 450), src)).toBe(0)
    a.copy(120, 150, 450) // backward overlap
    expect(Buffer.compare(a.bytes.subarray(120, 420), src)).toBe(0)
    a.copy(0, 0, 0) // nothing to copy
    expect(Buffer.from(a.view(120, 420)).equals(src)).toBe(true)
  })

  it('grows in place: what it held stays, and its bytes and views cover the new size', () => {
    const a = new ByteArena(64 * 1024, { wasm }), src = pattern(5000, 3)
    src.copy(a.bytes, 60_000)
    a.ensure(64 * 1024) // no growth
    expect(a.size).toBe(64 * 1024)
    a.ensure(1_000_000)
    expect(a.size).toBeGreaterThanOrEqual(1_000_000)
    expect(a.size % 65536).toBe(0)
    expect(Buffer.compare(a.bytes.subarray(60_000, 65_000), src)).toBe(0)
    a.copy(900_000, 60_000, 65_000)
    expect(Buffer.from(a.view(900_000, 905_000)).equals(src)).toBe(true)
  })

  it('keeps two arenas apart: each has a memory of its own', () => {
    const a = new ByteArena(65536, { wasm }), b = new ByteArena(65536, { wasm })
    a.bytes.fill(1); b.bytes.fill(2)
    a.copy(0, 10, 20)
    expect([a.bytes[0], b.bytes[0]]).toEqual([1, 2])
  })
})
