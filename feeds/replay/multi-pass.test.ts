// A capture holding several IEX sessions (the real TOPS sample three times: sequence restarts at 1, a new session id,
// a copied datagram, a lost one, a cut last record) through the real replayer command: every message is served
// once, in order, and the counts it prints at start are the ones this test computes from the bytes it wrote.
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FeedStats } from '../../src/feed/feed-stats.js'
import type { SessionSink } from '../../src/feed/session-sink.js'
import { SoupClient } from '../../src/feed/soup-client.js'
import { waitFor } from '../../test-support/wait-for.js'
import { captureReport, loadCapture } from './load-capture.js'

const TOPS = new URL('../samples/iex-tops16/TOPS16.pcapng.gz', import.meta.url).pathname
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickcast-multipass-'))
const REPLAY = 'dist/feeds/replay.js'
// Ethernet 14 + IPv4 (IHL 5 in this sample, checked below) 20 + UDP 8: the IEX-TP segment header starts here.
const IEXTP = 42, OFF_SESSION = 8, OFF_COUNT = 14

/** One pcap record: its 16-byte header and frame, with the segment's message count read from the header. */
type Rec = { bytes: Buffer; count: number }

function records(): { global: Buffer; recs: Rec[] } {
  const b = gunzipSync(fs.readFileSync(TOPS))
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4) // classic little-endian µs pcap (README)
  const recs: Rec[] = []
  for (let o = 24; o < b.length;) {
    const incl = b.readUInt32LE(o + 8), frame = o + 16
    expect(b[frame + 14] & 0x0f).toBe(5)
    recs.push({ bytes: Buffer.from(b.subarray(o, frame + incl)), count: b.readUInt16LE(frame + IEXTP + OFF_COUNT) })
    o = frame + incl
  }
  return { global: Buffer.from(b.subarray(0, 24)), recs }
}

function withSession(r: Rec, session: number): Rec {
  const bytes = Buffer.from(r.bytes)
  bytes.writeUInt32LE(session, 16 + IEXTP + OFF_SESSION)
  return { bytes, count: r.count }
}

/** The messages of a record, as the segment's [u16 LE length][message] blocks lay them out. */
function messagesOf(r: Rec): Buffer[] {
  const out: Buffer[] = []
  let o = 16 + IEXTP + 40
  for (let i = 0; i < r.count; i++) { const l = r.bytes.readUInt16LE(o); out.push(r.bytes.subarray(o + 2, o + 2 + l)); o += 2 + l }
  return out
}

class Collect implements SessionSink {
  readonly payloads: Buffer[] = []
  beginBatch(): void {}
  message(buf: Buffer, off: number, len: number): void { this.payloads.push(Buffer.from(buf.subarray(off, off + len))) }
  endBatch(): void {}
}

const children: ChildProcessWithoutNullStreams[] = [], clients: SoupClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()))
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('replaying a capture of several sessions', () => {
  it('serves every message of every pass and prints passes, duplicates, venue gaps and the cut last record', async () => {
    const { global, recs } = records()
    expect(recs.reduce((n, r) => n + r.count, 0)).toBe(57_674) // the sample's documented message count
    const session = recs[0].bytes.readUInt32LE(16 + IEXTP + OFF_SESSION)
    const dup = recs.findIndex((r) => r.count >= 3), lost = recs.findIndex((r, i) => i > recs.length / 2 && r.count >= 2)
    const last = recs[recs.length - 1]
    // pass 1: the sample with one datagram captured twice (an A/B copy); pass 2: the next "day" (new session id) with one
    // datagram lost; pass 3: the same session id starting again at 1, its last record cut short by the end of the file.
    const pass1 = [...recs.slice(0, dup + 1), recs[dup], ...recs.slice(dup + 1)]
    const pass2 = recs.filter((_, i) => i !== lost).map((r) => withSession(r, session + 1))
    const pass3 = recs.map((r) => withSession(r, session + 1))
    const cut = pass3[pass3.length - 1].bytes
    const file = Buffer.concat([global, ...[...pass1, ...pass2, ...pass3.slice(0, -1)].map((r) => r.bytes), cut.subarray(0, cut.length - 5)])
    const capPath = path.join(dir, 'three-days.pcap')
    fs.writeFileSync(capPath, file)

    const expected = [...recs, ...pass2, ...pass3.slice(0, -1)].flatMap(messagesOf)
    const perPass = [57_674, 57_674 - recs[lost].count, 57_674 - last.count]
    expect(expected.length).toBe(perPass[0] + perPass[1] + perPass[2])
    // the same figures in-process (the library the command runs)
    const report = captureReport(loadCapture(file))
    expect(report).toEqual({ messages: expected.length, passes: 3, passMessages: perPass, duplicates: recs[dup].count,
      venueGaps: 1, venueGapMessages: recs[lost].count, truncatedLastRecord: true })

    const child = spawn(process.execPath, [REPLAY, capPath, '--port', '0'])
    children.push(child)
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    await waitFor(() => out.includes('"listening"'), 15_000, `the replayer to listen (stderr: ${err})`)
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const printed = lines.find((l) => l.event === 'capture')!
    expect(printed).toMatchObject({ messages: expected.length, passes: 3, passMessages: perPass, duplicates: recs[dup].count,
      venueGaps: 1, venueGapMessages: recs[lost].count, truncatedLastRecord: true, served: expected.length })
    const listening = lines.find((l) => l.event === 'listening')!
    expect(listening.messages).toBe(expected.length)

    const sink = new Collect(), stats = new FeedStats('t')
    const c = new SoupClient({ name: 't', host: '127.0.0.1', port: listening.port as number, username: '', password: '' }, sink, stats)
    clients.push(c)
    c.start()
    await waitFor(() => stats.endOfSession === 1, 20_000, 'End of Session after the whole capture')
    expect(sink.payloads.length).toBe(expected.length)
    expect(stats.duplicates).toBe(0)
    const firstDiff = sink.payloads.findIndex((p, i) => !p.equals(expected[i]))
    expect(firstDiff).toBe(-1)
  })

  it('serves one pass as a session of its own with --capture-pass', async () => {
    const { global, recs } = records()
    const file = Buffer.concat([global, ...recs.map((r) => r.bytes), ...recs.slice(0, 100).map((r) => r.bytes)])
    const capPath = path.join(dir, 'two-passes.pcap')
    fs.writeFileSync(capPath, file)
    const want = recs.slice(0, 100).flatMap(messagesOf)
    const child = spawn(process.execPath, [REPLAY, capPath, '--port', '0', '--capture-pass', '2'])
    children.push(child)
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    await waitFor(() => out.includes('"listening"'), 15_000, 'the replayer to listen')
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.find((l) => l.event === 'capture')).toMatchObject({ passes: 2, passMessages: [57_674, want.length], served: want.length, pass: 2 })
    const listening = lines.find((l) => l.event === 'listening')!
    const sink = new Collect(), stats = new FeedStats('t')
    const c = new SoupClient({ name: 't', host: '127.0.0.1', port: listening.port as number, username: '', password: '' }, sink, stats)
    clients.push(c)
    c.start()
    await waitFor(() => stats.endOfSession === 1, 20_000, 'End of Session after pass 2')
    expect(sink.payloads.length).toBe(want.length)
    expect(sink.payloads.every((p, i) => p.equals(want[i]))).toBe(true)
  })
})
