// The fused quote path's time conversion (quote-run.ts microsOf) against exact BigInt division, at the edges where a
// multiply by 0.001 could round across an integer (multiples of 1000 and one below), over the decoder's whole range.
import { describe, expect, it } from 'vitest'
import { microsOf } from './quote-run.js'

const MAX_TS_HI = 2097152000 // the decoder's bound: hi below it gives µs < 2^53

function exactMicros(lo: number, hi: number): number { return Number(((BigInt(hi) << 32n) + BigInt(lo)) / 1000n) }

describe('microsOf', () => {
  it('is floor(ns / 1000) exactly at multiples of 1000, one below and one above, across the whole range', () => {
    let x = 12345, checked = 0
    const rnd = (): number => { x = (x * 1103515245 + 12345) >>> 0; return x }
    const his = [0, 1, 2, 999, 1000, 4294, MAX_TS_HI - 1, MAX_TS_HI - 2, 396000, 410000]
    for (let k = 0; k < 2000; k++) his.push(rnd() % MAX_TS_HI)
    for (const hi of his) {
      // ns = hi × 2^32 + lo; the lo values that make ns a multiple of 1000 (and its neighbours), plus random ones
      const first = Number((1000n - ((BigInt(hi) << 32n) % 1000n)) % 1000n)
      for (const base of [first, first + 1000 * (rnd() % 4294967), 4294967295 - ((4294967295 - first) % 1000)]) {
        for (const lo of [base - 1, base, base + 1, rnd()]) {
          if (lo < 0 || lo > 4294967295) continue
          expect(microsOf(lo, hi), `hi ${hi} lo ${lo}`).toBe(exactMicros(lo, hi)); checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(20000)
  })
})
