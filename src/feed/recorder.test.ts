import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { seededRandom } from '../../test-support/seeded-random.js'
import { BootError } from '../errors.js'
import { CaptureRecorder, RECORDING_BAD, RECORDING_OK, RECORDING_TRUNCATED, parseRecordingHeader, readRecording } from './recorder.js'
import type { SessionSink } from './session-sink.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickcast-rec-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

class Collect implements SessionSink {
  readonly got: string[] = []
  batches = 0
  beginBatch(): void { this.batches++ }
  message(buf: Buffer, off: number, len: number, seq: number): void { this.got.push(seq + ':' + buf.toString('hex', off, off + len)) }
  endBatch(): void {}
}

describe('CaptureRecorder', () => {
  it('records every payload with its chunk time in large writes, passes everything through, and reads back identically', async () => {
    const file = path.join(dir, 'a.tcap'), next = new Collect()
    const rec = new CaptureRecorder(file, 'tops', next, { session: 'S1', chunkBytes: 128 * 1024 })
    const rnd = seededRandom(7), sent: { hex: string; tUs: number }[] = []
    let seq = 41, t = 1000
    for (let batch = 0; batch < 1000; batch++) {
      t += 1.5
      rec.beginBatch(t)
      const tUs = Math.floor((performance.timeOrigin + t) * 1000)
      for (let k = 0; k < 20; k++) {
        const len = Math.floor(rnd() * 60), b = Buffer.alloc(len + 8)
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256)
        rec.message(b, 4, len, seq++) // a view inside a larger buffer
        sent.push({ hex: b.toString('hex', 4, 4 + len), tUs })
      }
      rec.endBatch()
    }
    expect(next.got.length).toBe(20_000)
    expect(next.batches).toBe(1000)
    await rec.close()
    await rec.close() // idempotent
    const bytes = fs.readFileSync(file)
    expect(rec.stats.bytesWritten).toBe(bytes.length)
    expect(rec.stats.writes).toBeLessThanOrEqual(Math.ceil(bytes.length / (128 * 1024 - 65_545)) + 1) // chunks, not messages
    expect(parseRecordingHeader(bytes)).toMatchObject({ protocol: 'tops', session: 'S1', firstSeq: 41 })
    const back: { hex: string; tUs: number }[] = []
    expect(readRecording(bytes, { record(b, o, l, tUs) { back.push({ hex: b.toString('hex', o, o + l), tUs }) } })).toBe(RECORDING_OK)
    expect(back).toEqual(sent)
    expect(readRecording(bytes.subarray(0, bytes.length - 3), { record() {} })).toBe(RECORDING_TRUNCATED)
    expect(readRecording(Buffer.from('not a capture\n'), { record() {} })).toBe(RECORDING_BAD)
  })

  it('writes a valid empty capture when nothing was received', async () => {
    const file = path.join(dir, 'empty.tcap'), rec = new CaptureRecorder(file, 'itch', new Collect())
    await rec.close()
    const bytes = fs.readFileSync(file)
    expect(parseRecordingHeader(bytes)).toMatchObject({ protocol: 'itch', firstSeq: 0, dataOffset: bytes.length })
  })

  it('refuses a path it cannot open at construction', () => {
    expect(() => new CaptureRecorder(path.join(dir, 'no/such/dir/x.tcap'), 'tops', new Collect())).toThrow(expect.objectContaining({ code: 'RECORD_OPEN' }))
  })

  it('refuses to overwrite an earlier capture at the same path (a restart must not wipe it), leaving it intact', async () => {
    const file = path.join(dir, 'restart.tcap'), first = new CaptureRecorder(file, 'native', new Collect(), { session: 'DAY1' })
    first.beginBatch(1); first.message(Buffer.from('payload'), 0, 7, 1); first.endBatch()
    await first.close()
    const before = fs.readFileSync(file)
    let err: unknown = null
    try { new CaptureRecorder(file, 'native', new Collect()) } catch (e) { err = e }
    expect(err).toBeInstanceOf(BootError)
    expect(err).toMatchObject({ code: 'RECORD_EXISTS' })
    expect((err as Error).message).toContain(file)
    expect((err as Error).message).toMatch(/move it away or choose another/)
    expect(fs.readFileSync(file)).toEqual(before)
    const back: string[] = []
    expect(readRecording(fs.readFileSync(file), { record(b, o, l) { back.push(b.toString('latin1', o, o + l)) } })).toBe(RECORDING_OK)
    expect(back).toEqual(['payload'])
  })

  it('records into an existing empty file (nothing to lose)', async () => {
    const file = path.join(dir, 'touched.tcap')
    fs.writeFileSync(file, '')
    const rec = new CaptureRecorder(file, 'tops', new Collect())
    rec.beginBatch(1); rec.message(Buffer.from('ab'), 0, 2, 5); rec.endBatch()
    await rec.close()
    const bytes = fs.readFileSync(file)
    expect(parseRecordingHeader(bytes)).toMatchObject({ protocol: 'tops', firstSeq: 5 })
    expect(readRecording(bytes, { record() {} })).toBe(RECORDING_OK)
  })
})
