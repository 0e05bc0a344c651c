// Owns feeding this thread's ring consumer from a ring another thread writes: parks on the ring's generation, copies
// committed slots one drain's worth at a time (validated), and publishes the writer's cursor to this thread's view.
// Must never write the shared ring or wait for the writer: a lapped consumer is skipped to the head (it conflates).
import { RingMirror } from '../fanout/ring-mirror.js'
import { MAX_UNCOMMITTED_EVENTS, TickRing } from '../ring/ring-buffer.js'

// Atomics.waitAsync is in Node 20 (V8 ≥ 8.7) but in TypeScript's lib only from es2024 (tsconfig is not ours to change).
type WaitAsync = (a: Int32Array, i: number, v: number) => { async: false; value: string } | { async: true; value: Promise<string> }
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

/**
 * One bounded drain's worth of slots (the dispatcher's MAX_EVENTS_PER_DRAIN), about 3 MiB. Why a copy at all: the
 * dispatcher reads a slot twice (cache, then encode) and the writer may rewrite it in between; why not a ring-sized
 * mirror: it doubled ring memory. A copy of what the consumer reads next is checked once, like a seqlock.
 */
export const STAGING_SLOTS = 32768

/** What the follower needs of the consumer: where it is, and how to skip it to the head when lapped. */
export interface FollowedConsumer {
  readonly position: number
  skipTo(seq: number): void
}

export class RingFollower {
  private stopped = false
  private readonly mirror: RingMirror
  private readonly loop = (): void => this.follow()

  /** The ring the consumer drains: one drain's worth, never larger than the shared ring. */
  static staging(shared: TickRing): TickRing { return new TickRing(Math.min(STAGING_SLOTS, shared.capacity)) }

  constructor(private readonly shared: TickRing, staging: TickRing, consumer: FollowedConsumer) {
    this.mirror = new RingMirror(shared, staging, (seq) => consumer.skipTo(seq), MAX_UNCOMMITTED_EVENTS,
      { limit: () => consumer.position + staging.capacity, skipToHead: true })
  }

  /** copies the writer raced (retried) */
  get torn(): number { return this.mirror.stats.torn }

  start(): void { this.follow() }

  /** Releases the pending wait (it would keep the event loop alive). Idempotent. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    Atomics.notify(this.shared.shared, 0)
  }

  /**
   * Reading the generation before pumping means a commit that lands during the pump changes it, so waitAsync returns
   * at once: no lost wake-up, no polling while the feed is quiet. Commits that come while this thread is busy collapse
   * into one wake-up. A pump that could not take everything (the consumer had not read its last copy yet) comes back
   * after the consumer's drain (both are setImmediate callbacks, in order).
   */
  private follow(): void {
    if (this.stopped) return
    const r = this.shared, gen = r.sharedGeneration()
    const more = this.mirror.pump()
    const c = r.loadSharedCursor()
    if (c > r.cursor) r.cursor = c // this thread's view of the writer (metrics, resume, tests)
    if (more) { setImmediate(this.loop); return }
    const w = waitAsync(r.shared, 0, gen)
    if (w.async) void w.value.then(this.loop)
    else setImmediate(this.loop)
  }
}
