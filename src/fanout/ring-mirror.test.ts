import { describe, expect, it } from 'vitest'
import { SharedSymbols } from '../model/shared-symbols.js'
import { Normalizer, SymbolSequences } from '../normalize/normalizer.js'
import { KIND_QUOTE, MAX_UNCOMMITTED_EVENTS, TickRing } from '../ring/ring-buffer.js'
import { RingMirror } from './ring-mirror.js'

function setup(capacity = 16) {
  const writer = new TickRing(capacity)
  const skips: number[] = []
  // these tests drive the writer slot by slot: at most the slot after its shared cursor is being written
  const mirror = new RingMirror(new TickRing(capacity, writer.handle()), new TickRing(capacity), (s) => skips.push(s), 1)
  let woken = 0
  mirror.local.wake = () => { woken++ }
  const write = (sym: number, bid: number): void => {
    const i = writer.nextSlot()
    writer.kind[i] = KIND_QUOTE; writer.symbolId[i] = sym; writer.bidPrice[i] = bid; writer.advance()
  }
  return { writer, mirror, skips, write, woken: () => woken }
}

describe('RingMirror', () => {
  it('copies committed slots across the wrap and wakes the local consumer once per pump', () => {
    const { writer, mirror, write, woken } = setup()
    for (let k = 0; k < 12; k++) write(k % 2, k)
    writer.commit(); mirror.pump()
    for (let k = 12; k < 20; k++) write(k % 2, k) // wraps past slot 15
    writer.commit()
    write(0, 999) // published, not committed: not copied
    mirror.pump()
    expect(mirror.local.cursor).toBe(19)
    for (let seq = 4; seq <= 19; seq++) expect(mirror.local.bidPrice[seq & 15], String(seq)).toBe(seq)
    expect(woken()).toBe(2)
    expect(mirror.pump()).toBe(false)
    expect(woken()).toBe(2) // nothing new: no wake
  })

  it('skips (and reports) what fell out of the half-ring window instead of copying slots being rewritten', () => {
    const { writer, mirror, skips, write } = setup(16)
    for (let k = 0; k < 30; k++) write(0, k)
    writer.commit(); mirror.pump()
    expect(skips).toEqual([21]) // window 8: copies 22..29
    expect(mirror.local.cursor).toBe(29)
    expect(mirror.local.bidPrice[29 & 15]).toBe(29)
  })

  it('discards a copy the writer lapped while it was being read, and asks for a retry', () => {
    const { writer, mirror, write } = setup(16)
    for (let k = 0; k < 4; k++) write(0, k)
    writer.commit()
    const shared = (mirror as unknown as { shared: TickRing }).shared
    const load = shared.loadSharedCursor.bind(shared)
    let calls = 0
    shared.loadSharedCursor = () => (++calls === 2 ? 3 + 16 : load()) // the check after the copy sees the writer 16 ahead
    expect(mirror.pump()).toBe(true)
    expect(mirror.stats.torn).toBe(1)
    expect(mirror.local.cursor).toBe(-1)
    expect(mirror.pump()).toBe(false)
    expect(mirror.local.cursor).toBe(3)
  })
})

describe('RingMirror against a writer with a large uncommitted batch', () => {
  it('refuses (retries) a copy the writer may have overwritten past the cursor it last shared (review finding)', () => {
    const shared = new TickRing(1024), local = new TickRing(1024)
    const write = (n: number): void => { for (let k = 0; k < n; k++) { const i = shared.nextSlot(); shared.symbolId[i] = 0; shared.symbolSeq[i] = shared.cursor + 2; shared.advance() } }
    write(600); shared.commit()
    write(600) // mid-batch on the feed thread: overwrites the slots of seqs 0..175, not shared yet
    const mirror = new RingMirror(shared, local, () => {})
    expect(mirror.pump()).toBe(true) // torn: retry later instead of accepting seqs 88..175 with the wrong events
    expect(mirror.stats.torn).toBe(1)
    expect(local.cursor).toBeLessThan(88) // what fell out of the window is skipped and reported; nothing torn is accepted
  })

  it('is guaranteed a bound by the writer: the normalizer shares its cursor at least every MAX_UNCOMMITTED_EVENTS', () => {
    const ring = new TickRing(65536)
    const norm = new Normalizer(ring, new SharedSymbols(4), new SymbolSequences(4))
    norm.defineSymbol(1, 'AAPL', -4, 0)
    norm.beginBatch(0)
    let worst = 0
    for (let k = 0; k < 20_000; k++) {
      norm.quote(1, k, 100, 1, 101, 1, 0)
      worst = Math.max(worst, ring.cursor - ring.loadSharedCursor())
    }
    norm.endBatch()
    expect(worst).toBeLessThan(MAX_UNCOMMITTED_EVENTS)
    expect(ring.loadSharedCursor()).toBe(20_000) // the symbol's KIND_SYMBOL, then 20,000 quotes
  })
})
