// The GLIMPSE 5.0 End of Snapshot ('M') message as bytes on the wire, written out by hand here (not by the encoder under
// test): what is read as a resume sequence, what is refused, and what a snapshot session built of such bytes yields.
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { realItchStream } from '../../test-support/itch-sample.js'
import { END_OF_SNAPSHOT_BYTES, endOfSnapshotSeq, writeEndOfSnapshot } from './glimpse.js'
import { takeSnapshot } from './glimpse-client.js'
import type { SessionSink } from './session-sink.js'

/** `M` then the sequence as numeric ASCII 20, right-justified and space-padded (SoupBinTCP numerics). */
const M_1021 = Buffer.from('M                1021', 'latin1')

/** A SoupBinTCP packet: u16 BE length (type + payload), type byte, payload. */
function packet(type: string, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload
  const b = Buffer.alloc(3 + p.length); b.writeUInt16BE(1 + p.length, 0); b[2] = type.charCodeAt(0); p.copy(b, 3)
  return b
}

const servers: net.Server[] = []
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r)))) })

/** A server that answers any login with `bytes` and leaves the connection open. */
async function serve(bytes: Buffer): Promise<number> {
  const s = net.createServer((c) => { c.once('data', () => c.write(bytes)); c.on('error', () => {}) })
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return (s.address() as net.AddressInfo).port
}

describe('GLIMPSE End of Snapshot on the wire', () => {
  it('reads the 21-byte M message written by hand, and the encoder writes exactly those bytes', () => {
    expect(M_1021.length).toBe(END_OF_SNAPSHOT_BYTES)
    expect(endOfSnapshotSeq(M_1021, 0, 21)).toBe(1021)
    const out = Buffer.alloc(21)
    expect(writeEndOfSnapshot(out, 0, 1021)).toBe(21)
    expect(out.equals(M_1021)).toBe(true)
    // the largest sequence a double holds exactly
    expect(endOfSnapshotSeq(Buffer.from('M' + String(2 ** 53 - 1).padStart(20, ' '), 'latin1'), 0, 21)).toBe(2 ** 53 - 1)
  })

  it('refuses what is not a well-formed End of Snapshot: wrong length, not M, blank, non-digits, zero', () => {
    expect(endOfSnapshotSeq(Buffer.concat([M_1021, Buffer.from(' ')]), 0, 22)).toBe(-1)
    expect(endOfSnapshotSeq(M_1021, 0, 20)).toBe(-1)
    expect(endOfSnapshotSeq(Buffer.from('N                1021', 'latin1'), 0, 21)).toBe(-1)
    expect(endOfSnapshotSeq(Buffer.from('M' + ' '.repeat(20), 'latin1'), 0, 21)).toBe(-1)
    expect(endOfSnapshotSeq(Buffer.from('M               10x1', 'latin1'), 0, 21)).toBe(-1)
    expect(endOfSnapshotSeq(Buffer.from('M                   0', 'latin1'), 0, 21)).toBe(-1)
  })

  it('a snapshot session of real ITCH messages then the M message: every message reaches the sink once, the resume sequence is M\'s', async () => {
    const itch = realItchStream().slice(0, 25).map((m) => m.bytes)
    const accepted = packet('A', 'NQ        ' + '1'.padStart(20, ' '))
    const bytes = Buffer.concat([accepted, ...itch.map((m) => packet('S', m)), packet('S', M_1021), packet('S', itch[0])])
    const got: Buffer[] = [], seqs: number[] = []
    const sink: SessionSink = { beginBatch() {}, endBatch() {}, message(buf, off, len, seq) { got.push(Buffer.from(buf.subarray(off, off + len))); seqs.push(seq) } }
    const r = await takeSnapshot({ host: '127.0.0.1', port: await serve(bytes), username: '', password: '' }, sink)
    expect(r).toEqual({ nextSeq: 1021, messages: 25 })
    // nothing after End of Snapshot reaches the sink (the stray message behind it is not applied)
    expect(got).toEqual(itch)
    expect(seqs).toEqual(itch.map((_, i) => i + 1))
  })
})
