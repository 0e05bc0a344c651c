// Owns rate-limiting authentication failures per remote address: a token bucket per address, bounded in memory.
// Must never block a successful client's path: only addresses with recent failures have a bucket at all.

export interface FailureLimits {
  /** failures an address may make in a burst before it is refused without verification */
  burst: number
  /** failures per second an address earns back */
  perSec: number
}

export const FAILURE_LIMITS: FailureLimits = Object.freeze({ burst: 10, perSec: 2 })
/** addresses tracked at most; past it the fullest buckets (least recent offenders) are dropped first */
const MAX_ADDRESSES = 10_000

interface Bucket { tokens: number; atMs: number }

export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>()
  constructor(private readonly lim: FailureLimits = FAILURE_LIMITS) {}

  /** May `ip` try a credential now? False while its failures exceed the burst (it is answered without verifying). */
  allowed(ip: string, nowMs: number): boolean {
    const b = this.buckets.get(ip)
    if (b === undefined) return true
    this.refill(b, nowMs)
    if (b.tokens >= this.lim.burst) { this.buckets.delete(ip); return true }
    return b.tokens >= 1
  }

  /** `ip` presented a bad credential. */
  failed(ip: string, nowMs: number): void {
    let b = this.buckets.get(ip)
    if (b === undefined) {
      if (this.buckets.size >= MAX_ADDRESSES) this.prune(nowMs)
      b = { tokens: this.lim.burst, atMs: nowMs }
      this.buckets.set(ip, b)
    } else this.refill(b, nowMs)
    b.tokens = Math.max(0, b.tokens - 1)
  }

  get size(): number { return this.buckets.size }

  private refill(b: Bucket, nowMs: number): void {
    b.tokens = Math.min(this.lim.burst, b.tokens + (nowMs - b.atMs) * this.lim.perSec / 1000); b.atMs = nowMs
  }

  private prune(nowMs: number): void {
    for (const [ip, b] of this.buckets) { this.refill(b, nowMs); if (b.tokens >= this.lim.burst - 1) this.buckets.delete(ip) }
    // still full of active offenders: forget the oldest half (Map iterates in insertion order)
    if (this.buckets.size >= MAX_ADDRESSES) { let n = this.buckets.size >> 1; for (const ip of this.buckets.keys()) { if (n-- <= 0) break; this.buckets.delete(ip) } }
  }
}
