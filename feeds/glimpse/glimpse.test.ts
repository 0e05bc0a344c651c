// The GLIMPSE 5.0 endpoint of the replayer, over real sockets with tickcast's own snapshot client, on the real ITCH
// sample: what a snapshot carries equals a Map book built here from the reference decode at the same sequence.
import { afterEach, describe, expect, it } from 'vitest'
import { DECODE_OK } from '../../src/errors.js'
import { decodeItchMessage } from '../../src/feed/decoders/itch.js'
import type { ItchRecord } from '../../src/feed/decoders/itch.js'
import { SnapshotFailed, takeSnapshot } from '../../src/feed/glimpse-client.js'
import type { SessionSink } from '../../src/feed/session-sink.js'
import { LOGIN_ACCEPTED_BYTES, writeLoginAccepted, writeSequencedHeader } from '../../src/feed/soupbin.js'
import { asBinaryFile, realItchStream, referenceBook } from '../../test-support/itch-sample.js'
import type { RefOrder } from '../../test-support/itch-sample.js'
import { loadCapture } from '../replay/load-capture.js'
import { startReplay } from '../replay/replayer.js'
import type { RunningReplay } from '../replay/replayer.js'
import { CaptureSnapshots } from './capture-snapshots.js'
import { ItchBookModel } from './itch-book-model.js'

class Collect implements SessionSink {
  readonly msgs: Buffer[] = []
  readonly seqs: number[] = []
  beginBatch(): void {}
  message(buf: Buffer, off: number, len: number, seq: number): void { this.msgs.push(Buffer.from(buf.subarray(off, off + len))); this.seqs.push(seq) }
  endBatch(): void {}
}

/** What a snapshot says, read back with the field table (not the book code): types in order, and the orders it adds. */
function readSnapshot(msgs: readonly Buffer[]): { types: string; orders: Map<number, RefOrder> } {
  let types = ''
  const orders = new Map<number, RefOrder>()
  for (const m of msgs) {
    const r: ItchRecord = {}
    expect(decodeItchMessage(m, 0, m.length, r)).toBe(DECODE_OK)
    types += r.type as string
    if (r.type === 'A' || r.type === 'F') {
      expect(orders.has(r.ref as number)).toBe(false)
      orders.set(r.ref as number, { locate: r.locate as number, buy: r.side === 'B', price: r.price as number, shares: r.shares as number })
    }
  }
  return { types, orders }
}

const replays: RunningReplay[] = []
afterEach(async () => { await Promise.all(replays.splice(0).map((r) => r.stop())) })

describe('GLIMPSE snapshots of a replayed ITCH capture', () => {
  const stream = realItchStream()
  const cap = loadCapture(asBinaryFile(stream), 'itch')

  it('at the end of the capture: directory, states and every live order, then End of Snapshot naming the next sequence', async () => {
    const want = referenceBook(stream)
    expect(want.size).toBeGreaterThanOrEqual(8) // the sample's adds that nothing later removes
    const replay = await startReplay({ capture: cap, glimpsePort: 0, sessionId: 'NQ' })
    replays.push(replay)
    await replay.done
    const sink = new Collect()
    const r = await takeSnapshot({ host: '127.0.0.1', port: replay.glimpsePort!, username: '', password: '' }, sink)
    expect(r.nextSeq).toBe(stream.length + 1)
    expect(r.messages).toBe(sink.msgs.length)
    expect(sink.seqs).toEqual(sink.msgs.map((_, i) => i + 1))
    const got = readSnapshot(sink.msgs)
    // the latest system event (the omi 'Q' start of market hours), one R per directory locate, then the orders
    expect(got.types[0]).toBe('S')
    expect(sink.msgs[0][11]).toBe(0x51)
    expect([...got.types].filter((t) => t === 'R').length).toBe(993)
    expect(/^S[RHY]+[AF]+$/.test(got.types)).toBe(true)
    expect(got.orders).toEqual(want)
    expect(replay.glimpse!.counters.snapshots).toBe(1)
  })

  it('at any moment of the replay, the snapshot is the book of exactly the messages sent before its sequence', () => {
    const snaps = new CaptureSnapshots(cap)
    for (const k of [0, 1000, 1010, 1030, 1050, 1071, 1072]) {
      const s = snaps.at(0, k, k + 1)
      expect(s.nextSeq).toBe(k + 1)
      expect(readSnapshot(s.messages).orders, `after ${k} messages`).toEqual(referenceBook(stream, k))
    }
    // a new loop starts from an empty book
    expect(snaps.at(1, 0, cap.count + 1).messages.length).toBe(0)
  })

  it('follows executions, cancels and a replace of a real order, keeping its symbol, side and attribution', () => {
    // the sample's F (CASY, ref 18923125, S 100 @ 255.5200, MPID FLTU) and messages written for it with the spec layouts
    const add = stream.find((m) => m.ref?.type === 'F')!.bytes
    const ref = add.readUInt32BE(15), model = new ItchBookModel()
    const msg = (type: string, len: number, fill: (b: Buffer) => void): Buffer => {
      const b = Buffer.alloc(len); b.write(type, 0, 'latin1'); b.writeUInt16BE(add.readUInt16BE(1), 1); add.copy(b, 5, 5, 11); fill(b); return b
    }
    const exec = msg('E', 31, (b) => { b.writeUInt32BE(ref, 15); b.writeUInt32BE(30, 19) })
    const cancel = msg('X', 23, (b) => { b.writeUInt32BE(ref, 15); b.writeUInt32BE(20, 19) })
    const replace = msg('U', 35, (b) => { b.writeUInt32BE(ref, 15); b.writeUInt32BE(ref + 4, 23); b.writeUInt32BE(400, 27); b.writeUInt32BE(2555100, 31) })
    for (const m of [add, exec, cancel, replace]) model.apply(m, 0, m.length)
    expect(model.sharesOf(ref)).toBe(0)
    expect(model.sharesOf(ref + 4)).toBe(400)
    const [only] = model.snapshot()
    const r: ItchRecord = {}
    expect(decodeItchMessage(only, 0, only.length, r)).toBe(DECODE_OK)
    expect(r).toMatchObject({ type: 'F', ref: ref + 4, side: 'S', shares: 400, stock: 'CASY', price: 2555100, mpid: 'FLTU' })
    const del = msg('D', 19, (b) => { b.writeUInt32BE(ref + 4, 15) })
    model.apply(del, 0, del.length)
    expect(model.liveOrders).toBe(0)
    model.apply(del, 0, del.length)
    expect(model.unknownRefs).toBe(1)
  })

  it('refuses a login for another session, and the client says why', async () => {
    const replay = await startReplay({ capture: cap, glimpsePort: 0, sessionId: 'NQ' })
    replays.push(replay)
    const err = await takeSnapshot({ host: '127.0.0.1', port: replay.glimpsePort!, username: '', password: '', session: 'OTHER' }, new Collect()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SnapshotFailed)
    expect((err as SnapshotFailed).reason).toBe('login rejected: S')
    expect(replay.glimpse!.counters.rejected).toBe(1)
  })

  it('fails a snapshot whose server sends a message no ITCH message could be, and one that ends without End of Snapshot', async () => {
    const { createServer } = await import('node:net')
    const login = Buffer.alloc(LOGIN_ACCEPTED_BYTES); writeLoginAccepted(login, 0, 'NQ', 1)
    const packet = (n: number): Buffer => { const b = Buffer.alloc(3 + n, 0x41); writeSequencedHeader(b, 0, n); return b }
    for (const [bytes, reason] of [[packet(200), 'implausible 200-byte message'], [Buffer.alloc(0), 'closed before End of Snapshot']] as const) {
      const srv = createServer((c) => { c.once('data', () => c.end(Buffer.concat([login, packet(36), bytes]))); c.on('error', () => {}) })
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
      const sink = new Collect()
      const err = await takeSnapshot({ host: '127.0.0.1', port: (srv.address() as { port: number }).port, username: '', password: '' }, sink).catch((e: unknown) => e)
      await new Promise<void>((r) => srv.close(() => r()))
      expect((err as SnapshotFailed).reason).toBe(reason)
      expect(sink.msgs.length).toBe(1)
    }
  })

  it('is refused for a capture that is not ITCH', async () => {
    const tops = new URL('../samples/iex-tops16/TOPS16.pcapng.gz', import.meta.url).pathname
    await expect(startReplay({ capture: tops, glimpsePort: 0 })).rejects.toThrow(/GLIMPSE serves ITCH books/)
  })
})
