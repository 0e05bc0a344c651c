// Owns A/B line arbitration: two sessions carrying the same sequenced feed merge into one gap-free SessionSink.
// Must never deliver a sequence twice or out of order, nor declare a gap while an up line can still deliver it.
import { performance } from 'node:perf_hooks'
import type { FeedStats, LineStats } from './feed-stats.js'
import type { SessionSink } from './session-sink.js'

/*
 * Rules (per sequence number s, `next` = the next sequence owed downstream):
 * - the first copy of s wins: delivered at once when s === next, else held in the stash (the line leads);
 *   every later copy is a duplicate of the line that sent it (LineStats.arbDuplicates);
 * - `pos[line]` = the highest sequence the line has moved past (delivered or skipped). A SoupBinTCP line
 *   delivers strictly increasing sequences, so a line with pos ≥ s that did not deliver s never will;
 * - s is a gap only when every UP line has pos ≥ s without delivering it (both lines skipped it, or one
 *   line is down and the other skipped it); gaps are reported as ranges (fromSeq, count);
 * - the stash only ever holds messages of the leading line (if both lines had passed `next`, `next` would
 *   already be resolved), so it is a FIFO in sequence order: a ring of entries over a byte arena;
 * - a stash that fills up, or whose oldest entry waited over `maxWaitMs` (tick()), is flushed: the
 *   lagging line is no longer waited for and what it alone could have supplied becomes a gap.
 * Batches: downstream beginBatch is opened lazily by the first delivery of a line's chunk (all-duplicate
 * chunks open none) and closed by that line's endBatch; deliveries outside a chunk (line down, tick) are
 * wrapped in their own batch.
 */
export interface ArbiterOptions {
  /** first sequence owed downstream (1 = session start); 0 = start at the first message either line delivers */
  startSeq?: number
  /** messages the leading line may get ahead before the lagging line is given up on (power of two) */
  maxStashMessages?: number
  maxStashBytes?: number
  /** how long a stashed message may wait for the lagging line (checked by tick()) */
  maxWaitMs?: number
}

export type ArbiterGapHandler = (fromSeq: number, count: number) => void

const LINES = 2

/** The SessionSink one line's session delivers into; built once per line, forwards to the arbiter. */
class LineSink implements SessionSink {
  constructor(private readonly arb: Arbiter, private readonly line: number) {}
  beginBatch(recvTimeMs: number): void { this.arb.lineBegin(recvTimeMs) }
  message(buf: Buffer, off: number, len: number, seq: number): void { this.arb.lineMessage(this.line, buf, off, len, seq) }
  endBatch(): void { this.arb.lineEnd() }
}

export class Arbiter {
  /** one SessionSink per line: give lines[0] to line A's session, lines[1] to line B's */
  readonly lines: readonly SessionSink[]
  /** next sequence owed downstream; -1 until the first message when started live (startSeq 0) */
  nextSeq: number
  /** flushes forced by a full stash or by maxWaitMs */
  forcedFlushes = 0
  private readonly pos = new Float64Array(LINES)
  /** lines count as up until they disconnect: at startup the slower line is waited for (up to maxWaitMs) */
  private readonly up = new Uint8Array(LINES).fill(1)
  // stash: ring of entries, payloads in a linear arena compacted when it runs out of room
  private readonly sSeq: Float64Array
  private readonly sOff: Uint32Array
  private readonly sLen: Uint32Array
  private readonly sLine: Uint8Array
  private readonly sTime: Float64Array
  private readonly sMask: number
  private sHead = 0
  private sCount = 0
  private readonly arena: Buffer
  private arenaUsed = 0
  private readonly maxWaitMs: number
  private batchTimeMs = 0
  private inLineBatch = false
  private open = false

  constructor(
    private readonly sink: SessionSink,
    private readonly stats: FeedStats,
    private readonly lineStats: readonly LineStats[],
    private readonly onGap: ArbiterGapHandler,
    opts: ArbiterOptions = {},
  ) {
    if (lineStats.length !== LINES) throw new RangeError('an arbiter takes exactly two lines')
    const start = opts.startSeq ?? 1
    this.nextSeq = start >= 1 ? start : -1
    this.pos.fill(start >= 1 ? start - 1 : 0)
    let cap = 16
    while (cap < (opts.maxStashMessages ?? 1 << 16)) cap *= 2
    this.sSeq = new Float64Array(cap); this.sOff = new Uint32Array(cap); this.sLen = new Uint32Array(cap)
    this.sLine = new Uint8Array(cap); this.sTime = new Float64Array(cap); this.sMask = cap - 1
    this.arena = Buffer.allocUnsafe(Math.max(65536, opts.maxStashBytes ?? 16 * 1024 * 1024))
    this.maxWaitMs = opts.maxWaitMs ?? 1000
    this.lines = [new LineSink(this, 0), new LineSink(this, 1)]
    if (this.nextSeq > 0) stats.nextSeqGauge = this.nextSeq
  }

  /** messages held for the lagging line */
  get stashed(): number { return this.sCount }

  /** The line logged in: it constrains gap decisions again. */
  lineUp(line: number): void { this.up[line] = 1 }

  /** The line is down: stop waiting for it; what the other line skipped becomes a gap now. */
  lineDown(line: number): void {
    this.up[line] = 0
    this.outsideBatch()
  }

  /** The line's session moved to `nextSeq` without delivering what lies before (server recovery gap). */
  lineSkipped(line: number, nextSeq: number): void {
    if (nextSeq - 1 <= this.pos[line]) return
    this.pos[line] = nextSeq - 1
    this.outsideBatch()
  }

  /**
   * Where a (re)connecting line should resume (its SoupClient asks through `resumeFrom` at each login): the
   * next sequence owed downstream, so a line that was away does not replay what the other line already
   * delivered. Its position moves there.
   */
  resumeSeq(line: number, lineNextSeq: number): number {
    if (this.nextSeq < 0 || lineNextSeq >= this.nextSeq) return lineNextSeq
    if (this.nextSeq - 1 > this.pos[line]) this.pos[line] = this.nextSeq - 1
    return this.nextSeq
  }

  /** Periodic check (Feed calls it from a timer): a stash older than maxWaitMs stops waiting for the laggard. */
  tick(nowMs: number): void {
    if (this.sCount > 0 && nowMs - this.sTime[this.sHead] > this.maxWaitMs) {
      this.forcedFlushes++
      this.beginOutside()
      this.flushStash()
      this.endOutside()
    }
  }

  lineBegin(recvTimeMs: number): void {
    this.batchTimeMs = recvTimeMs
    this.inLineBatch = true
    if (!(recvTimeMs <= this.stats.lastReceiveMs)) this.stats.lastReceiveMs = recvTimeMs
  }

  lineEnd(): void {
    this.inLineBatch = false
    if (this.open) { this.open = false; this.sink.endBatch() }
    // per chunk (not per message): lag and byte totals for the metrics
    const a = this.lineStats[0], b = this.lineStats[1], pa = this.pos[0], pb = this.pos[1]
    a.lagMessages = pb > pa ? pb - pa : 0
    b.lagMessages = pa > pb ? pa - pb : 0
    this.stats.bytes = a.bytes + b.bytes
  }

  lineMessage(line: number, buf: Buffer, off: number, len: number, seq: number): void {
    const pos = this.pos
    if (this.nextSeq < 0) { // live start: the first message either line delivers sets the origin
      this.nextSeq = seq
      pos[0] = pos[1] = seq - 1
    }
    if (seq <= pos[line]) { this.duplicate(line); return } // a line going backwards: never delivered twice
    if (seq > pos[line] + 1) { // the line skipped pos+1 .. seq-1
      pos[line] = seq - 1
      if (seq - 1 >= this.nextSeq) this.advance()
    }
    pos[line] = seq
    if (seq < this.nextSeq) { this.duplicate(line); return }
    if (seq === this.nextSeq) {
      this.deliver(buf, off, len, seq, line)
      if (this.sCount > 0) this.advance()
      return
    }
    this.stash(buf, off, len, seq, line)
  }

  private duplicate(line: number): void {
    this.lineStats[line].arbDuplicates++
    this.stats.duplicates++
  }

  private deliver(buf: Buffer, off: number, len: number, seq: number, line: number): void {
    if (!this.open) { this.open = true; this.sink.beginBatch(this.batchTimeMs) }
    this.nextSeq = seq + 1
    this.stats.nextSeqGauge = seq + 1
    this.stats.messages++
    this.lineStats[line].won++
    this.sink.message(buf, off, len, seq)
  }

  /** Delivers stashed messages in order and declares what no up line can still supply as gaps. */
  private advance(): void {
    for (;;) {
      if (this.sCount > 0 && this.sSeq[this.sHead] <= this.nextSeq) {
        const h = this.sHead, seq = this.sSeq[h]
        this.popStash()
        if (seq === this.nextSeq) this.deliver(this.arena, this.sOff[h], this.sLen[h], seq, this.sLine[h])
        continue
      }
      const m = this.frontier()
      if (m < this.nextSeq) return
      const end = this.sCount > 0 ? Math.min(this.sSeq[this.sHead], m + 1) : m + 1
      this.gap(this.nextSeq, end - this.nextSeq)
    }
  }

  /** The lowest position among up lines; -1 when no line is up (nothing can be declared lost). */
  private frontier(): number {
    const u0 = this.up[0] === 1, u1 = this.up[1] === 1
    if (u0 && u1) return Math.min(this.pos[0], this.pos[1])
    return u0 ? this.pos[0] : u1 ? this.pos[1] : -1
  }

  private gap(from: number, count: number): void {
    this.nextSeq = from + count
    this.stats.nextSeqGauge = this.nextSeq
    this.stats.gaps++
    this.stats.missed += count
    this.onGap(from, count)
  }

  private stash(buf: Buffer, off: number, len: number, seq: number, line: number): void {
    if (this.sCount > 0 && this.sSeq[(this.sHead + this.sCount - 1) & this.sMask] >= seq) { this.duplicate(line); return }
    if (this.sCount > this.sMask || !this.roomFor(len)) {
      this.forcedFlushes++ // the laggard is too far behind: stop waiting for it
      this.flushStash()
      if (seq === this.nextSeq) { this.deliver(buf, off, len, seq, line); return }
      if (!this.roomFor(len)) { this.gap(this.nextSeq, seq + 1 - this.nextSeq); return } // larger than the arena
    }
    const i = (this.sHead + this.sCount) & this.sMask
    buf.copy(this.arena, this.arenaUsed, off, off + len)
    this.sSeq[i] = seq; this.sOff[i] = this.arenaUsed; this.sLen[i] = len; this.sLine[i] = line; this.sTime[i] = this.batchTimeMs
    this.arenaUsed += len
    this.sCount++
  }

  /** Makes room for `len` bytes at the arena's end, compacting live entries to the front (rare). */
  private roomFor(len: number): boolean {
    if (this.arenaUsed + len <= this.arena.length) return true
    if (this.sCount === 0) { this.arenaUsed = 0; return len <= this.arena.length }
    const base = this.sOff[this.sHead]
    this.arena.copyWithin(0, base, this.arenaUsed)
    for (let k = 0; k < this.sCount; k++) this.sOff[(this.sHead + k) & this.sMask] -= base
    this.arenaUsed -= base
    return this.arenaUsed + len <= this.arena.length
  }

  private popStash(): void {
    this.sHead = (this.sHead + 1) & this.sMask
    if (--this.sCount === 0) { this.sHead = 0; this.arenaUsed = 0 }
  }

  /** Gives up on the lagging line: every stashed message goes out, the holes between them are gaps. */
  private flushStash(): void {
    while (this.sCount > 0) {
      const h = this.sHead, seq = this.sSeq[h]
      if (seq > this.nextSeq) this.gap(this.nextSeq, seq - this.nextSeq)
      this.popStash()
      if (seq === this.nextSeq) this.deliver(this.arena, this.sOff[h], this.sLen[h], seq, this.sLine[h])
    }
  }

  private outsideBatch(): void {
    this.beginOutside()
    this.advance()
    this.endOutside()
  }

  private beginOutside(): void { if (!this.inLineBatch) this.batchTimeMs = performance.now() }

  private endOutside(): void {
    if (!this.inLineBatch && this.open) { this.open = false; this.sink.endBatch() }
  }
}
