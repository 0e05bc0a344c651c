import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FeedStats } from '../../src/feed/feed-stats.js'
import { CaptureRecorder } from '../../src/feed/recorder.js'
import type { SessionSink } from '../../src/feed/session-sink.js'
import { SoupClient } from '../../src/feed/soup-client.js'
import { SoupServer } from '../soup-server.js'
import { waitFor } from '../../test-support/wait-for.js'
import { parseReplayArgs } from './cli-args.js'
import { loadCapture, loadCaptureFile } from './load-capture.js'
import { parsePace, startReplay } from './replayer.js'
import type { RunningReplay } from './replayer.js'

const TOPS = new URL('../samples/iex-tops16/TOPS16.pcapng.gz', import.meta.url).pathname
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickcast-replay-'))

class Collect implements SessionSink {
  readonly payloads: Buffer[] = []
  readonly seqs: number[] = []
  readonly arrivalMs: number[] = []
  private t = 0
  beginBatch(t: number): void { this.t = t }
  message(buf: Buffer, off: number, len: number, seq: number): void {
    this.payloads.push(Buffer.from(buf.subarray(off, off + len))); this.seqs.push(seq); this.arrivalMs.push(this.t)
  }
  endBatch(): void {}
}

const replays: RunningReplay[] = [], clients: SoupClient[] = [], servers: SoupServer[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()))
  await Promise.all(replays.splice(0).map((r) => r.stop()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function connect(port: number, sink: SessionSink, stats = new FeedStats('t')): SoupClient {
  const c = new SoupClient({ name: 't', host: '127.0.0.1', port, username: '', password: '' }, sink, stats)
  clients.push(c); c.start()
  return c
}

describe('startReplay', () => {
  it('serves the whole TOPS sample as fast as the client reads: every message in order, then End of Session', async () => {
    const cap = loadCaptureFile(TOPS)
    const r = await startReplay({ capture: cap, pace: 'fast' })
    replays.push(r)
    expect([r.protocol, r.messages]).toEqual(['tops', 57_674])
    const sink = new Collect(), stats = new FeedStats('t')
    connect(r.port, sink, stats)
    await waitFor(() => stats.endOfSession === 1, 10_000, 'End of Session')
    await r.done
    expect(sink.payloads.length).toBe(cap.count)
    for (let i = 0; i < cap.count; i++) {
      if (sink.seqs[i] !== i + 1 || !sink.payloads[i].equals(cap.buf.subarray(cap.off[i], cap.off[i] + cap.len[i]))) throw new Error(`message ${i + 1} differs`)
    }
  })

  it('paces by the capture timestamps: 2x takes half the recorded span, recorded takes all of it', async () => {
    // a tickcast capture of 41 messages, 10 ms apart (400 ms span), written by the recorder itself
    const file = path.join(dir, 'paced.tcap'), rec = new CaptureRecorder(file, 'native', { beginBatch() {}, message() {}, endBatch() {} })
    for (let k = 0; k <= 40; k++) { rec.beginBatch(1000 + k * 10); const b = Buffer.from([k]); rec.message(b, 0, 1, k + 1); rec.endBatch() }
    await rec.close()
    for (const [pace, spanMs] of [[2, 200], ['recorded', 400]] as const) {
      const r = await startReplay({ capture: file, pace, waitForClient: true })
      replays.push(r)
      const sink = new Collect(), stats = new FeedStats('t')
      connect(r.port, sink, stats)
      await waitFor(() => stats.endOfSession === 1, 5000, 'End of Session')
      expect(sink.payloads.map((p) => p[0])).toEqual(Array.from({ length: 41 }, (_, k) => k))
      const took = sink.arrivalMs[40] - sink.arrivalMs[0]
      expect(took).toBeGreaterThan(spanMs * 0.85)
      expect(took).toBeLessThan(spanMs * 2 + 100)
    }
  })

  it('replays what the recorder captured from a live session byte for byte', async () => {
    const live = new SoupServer({ sessionId: 'LIVE' })
    servers.push(live)
    const port = await live.listen()
    const file = path.join(dir, 'live.tcap'), first = new Collect()
    const rec = new CaptureRecorder(file, 'tops', first, { session: 'LIVE' })
    connect(port, rec)
    const N = 5000
    for (let s = 1; s <= N; s++) { const b = Buffer.alloc(2 + (s % 50), s & 0xff); b.writeUInt16BE(s, 0); live.append(b, 0, b.length) }
    await waitFor(() => first.payloads.length === N, 5000, 'live messages')
    await rec.close()
    const cap = loadCaptureFile(file)
    expect([cap.format, cap.protocol, cap.count]).toEqual(['tickcast', 'tops', N])
    const r = await startReplay({ capture: cap })
    replays.push(r)
    const again = new Collect(), stats = new FeedStats('t')
    connect(r.port, again, stats)
    await waitFor(() => stats.endOfSession === 1, 5000, 'End of Session')
    expect(again.payloads).toEqual(first.payloads)
  })

  it('loops: sequence numbers keep counting across passes', async () => {
    const cap = loadCapture(fs.readFileSync(new URL('../samples/itch50/bekele-first1000.itch', import.meta.url)))
    const r = await startReplay({ capture: cap, pace: 'fast', loop: true })
    replays.push(r)
    const sink = new Collect()
    connect(r.port, sink)
    await waitFor(() => sink.payloads.length >= 2500, 5000, 'two and a half passes')
    expect(r.passes).toBeGreaterThanOrEqual(2)
    expect(sink.seqs.slice(0, 2500)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1))
    expect(sink.payloads[1000].equals(sink.payloads[0])).toBe(true)
    expect(sink.payloads[2001].equals(sink.payloads[1])).toBe(true)
  })
})

describe('replay command line', () => {
  it('parses every flag and reports every bad one at once', () => {
    const ok = parseReplayArgs(['x.pcap', '--port', '0', '--pace', '10x', '--protocol', 'itch', '--session', 'S1', '--loop'])
    expect(ok).toMatchObject({ ok: true, opts: { capture: 'x.pcap', port: 0, pace: 10, protocol: 'itch', sessionId: 'S1', loop: true } })
    const bad = parseReplayArgs(['--port', '70000', '--pace', 'slow', '--protocol', 'ouch', '--session', 'ELEVENCHARS', '--what'])
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.errors.length).toBe(6) // four bad values, one unknown flag, no capture
    expect([parsePace('recorded'), parsePace('fast'), parsePace('0.5x'), parsePace('0x'), parsePace('x')]).toEqual(['recorded', 'fast', 0.5, null, null])
  })
})
