// Owns a fixed-bucket histogram of plain numbers, observed on hot paths and exported at scrape time.
// Must never allocate or touch prom-client on observe(): metrics/registry.ts copies the counts on scrape.

export class PlainHistogram {
  /** counts[k] = observations ≤ bounds[k] and > bounds[k-1]; the last slot counts those above every bound */
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(readonly bounds: readonly number[]) { this.counts = new Float64Array(bounds.length + 1) }

  observe(v: number): void {
    const b = this.bounds
    let k = 0
    while (k < b.length && v > b[k]) k++
    this.counts[k]++; this.sum += v; this.count++
  }
}

/** Seconds: 25 µs … 5 s, dense below a millisecond where a healthy pipeline lives. */
export const LATENCY_BUCKETS_SEC = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
