// Owns the load process's per-update latency record: integer counts in a flat array, turned into an HdrHistogram
// only when a step is reported. Must never lose resolution against the histogram it feeds (3 significant digits).
import * as hdr from 'hdr-histogram-js'

/**
 * µs below 2^16 are counted exactly; above, 2^11 linear sub-buckets per power of two, each inside one bucket of an
 * HdrHistogram with 3 significant digits (whose sub-buckets are 2^10 per power of two), so the histogram built at
 * report time is the one recordValue per update would have built. Why: hdr-histogram-js's recordValue costs
 * ~700 instructions (Math.pow, Math.log2) per call under callgrind, more than the rest of an update's checks; this is
 * an index and an increment.
 */
const EXACT_BITS = 16, SUB_BITS = 11
const EXACT = 1 << EXACT_BITS, SUB = 1 << SUB_BITS
export const LATENCY_MAX_US = 59_000_000 // < 2^26

export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
}

export class LatencyCounts {
  readonly counts = new Uint32Array(EXACT + (26 - EXACT_BITS) * SUB)
  /** ageUs: any number; clamped to 1..LATENCY_MAX_US and truncated to whole µs */
  record(ageUs: number): void {
    const v = ageUs < 1 ? 1 : ageUs > LATENCY_MAX_US ? LATENCY_MAX_US : Math.floor(ageUs)
    if (v < EXACT) { this.counts[v]++; return }
    const msb = 31 - Math.clz32(v)
    this.counts[EXACT + (msb - EXACT_BITS) * SUB + ((v >>> (msb - SUB_BITS)) & (SUB - 1))]++
  }
  reset(): void { this.counts.fill(0) }
  /** the HdrHistogram of everything recorded since the reset (each bucket at its lowest value) */
  histogram(): hdr.Histogram {
    const h = latencyHistogram(), c = this.counts
    for (let i = 1; i < EXACT; i++) if (c[i] > 0) h.recordValueWithCount(i, c[i])
    for (let i = EXACT; i < c.length; i++) {
      if (c[i] === 0) continue
      const k = i - EXACT, msb = (k >>> SUB_BITS) + EXACT_BITS
      h.recordValueWithCount(2 ** msb + (k & (SUB - 1)) * 2 ** (msb - SUB_BITS), c[i])
    }
    return h
  }
}
