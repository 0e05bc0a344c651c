// Owns the tickcast capture format: a SessionSink tee that records every sequenced payload, and its reader.
// Must never write per message or block ingest on the disk: records go into 1 MiB chunks written asynchronously.
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { BootError } from '../errors.js'
import type { SessionSink } from './session-sink.js'

// File layout (feeds/README.md):
// header, one ASCII line:  "tickcast-capture v1 protocol=<native|itch|tops> session=<S> first-seq=<N>\n"
// then records back to back, big-endian:
// 0           2                    6                   10
// | len u16   | recv µs hi u32      | recv µs lo u32     | payload (len bytes) |
// recv µs = Unix epoch µs when the chunk carrying the message was read (one clock read per chunk).
export const RECORDING_MAGIC = 'tickcast-capture v1'
const REC_HDR_LEN = 10, OFF_REC_TIME_HI = 2, OFF_REC_TIME_LO = 6
const MAX_HEADER_BYTES = 512
const TWO32 = 2 ** 32

export interface RecorderOptions {
  /** session name written in the header */
  session?: string
  /** bytes per write (default 1 MiB) */
  chunkBytes?: number
  /** a partly filled chunk is written after this long (bounds what a crash loses) */
  flushIntervalMs?: number
  /** chunks waiting for the disk beyond this are dropped, counted (the feed must never wait for a disk) */
  maxBacklogBytes?: number
}

export class RecorderStats {
  records = 0
  bytesWritten = 0
  /** write calls issued (one per chunk, never per message) */
  writes = 0
  /** records dropped because the disk fell behind by more than maxBacklogBytes */
  dropped = 0
  writeErrors = 0
}

/** Records every sequenced payload to `path`, then hands it to `next` unchanged. */
export class CaptureRecorder implements SessionSink {
  readonly stats = new RecorderStats()
  private readonly fd: number
  private readonly chunkBytes: number
  private readonly maxBacklogBytes: number
  private chunk: Buffer
  private used = 0
  private timeHi = 0
  private timeLo = 0
  private headerWritten = false
  private readonly queue: Buffer[] = []
  private backlog = 0
  private writing = false
  private drained: (() => void) | null = null
  private readonly timer: NodeJS.Timeout
  private closing: Promise<void> | null = null
  lastError = ''

  /**
   * Opens `path` synchronously: a path that cannot be written, or that already holds data, is a boot error
   * (RECORD_OPEN, RECORD_EXISTS), not a silent loss. An earlier capture is never truncated or appended to: the
   * format has one header and no per-record sequence (feeds/README.md), so a second session appended would read
   * back as a continuation of the first. An existing empty file (nothing was ever written to it) is reused.
   */
  constructor(readonly path: string, readonly protocol: string, private readonly next: SessionSink, private readonly opts: RecorderOptions = {}) {
    this.fd = openNewCapture(path)
    this.chunkBytes = Math.max(128 * 1024, opts.chunkBytes ?? 1024 * 1024) // > the largest record (65,545 B)
    this.maxBacklogBytes = opts.maxBacklogBytes ?? 256 * 1024 * 1024
    this.chunk = Buffer.allocUnsafe(this.chunkBytes)
    this.timer = setInterval(() => { if (this.used > 0) this.handOff() }, opts.flushIntervalMs ?? 1000)
    this.timer.unref()
  }

  beginBatch(recvTimeMs: number): void {
    const us = Math.floor((performance.timeOrigin + recvTimeMs) * 1000) // once per chunk
    this.timeHi = Math.floor(us / TWO32); this.timeLo = us - this.timeHi * TWO32
    this.next.beginBatch(recvTimeMs)
  }

  message(buf: Buffer, off: number, len: number, seq: number): void {
    if (this.closing === null) this.record(buf, off, len, seq)
    this.next.message(buf, off, len, seq)
  }

  endBatch(): void { this.next.endBatch() }

  /** Writes what is buffered, fsyncs and closes the file. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing
    clearInterval(this.timer)
    if (!this.headerWritten) this.writeHeader(0)
    if (this.used > 0) this.handOff()
    this.closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        fs.fsync(this.fd, (e) => {
          if (e) { this.stats.writeErrors++; this.lastError = e.message }
          fs.close(this.fd, () => resolve())
        })
      }
      if (!this.writing && this.queue.length === 0) finish()
      else this.drained = finish
    })
    return this.closing
  }

  private record(buf: Buffer, off: number, len: number, seq: number): void {
    if (!this.headerWritten) this.writeHeader(seq)
    if (this.used + REC_HDR_LEN + len > this.chunk.length) this.handOff()
    if (this.backlog > this.maxBacklogBytes) { this.stats.dropped++; return }
    const c = this.chunk, p = this.used
    c[p] = len >>> 8; c[p + 1] = len & 0xff
    c.writeUInt32BE(this.timeHi, p + OFF_REC_TIME_HI); c.writeUInt32BE(this.timeLo, p + OFF_REC_TIME_LO)
    buf.copy(c, p + REC_HDR_LEN, off, off + len)
    this.used = p + REC_HDR_LEN + len
    this.stats.records++
  }

  private writeHeader(firstSeq: number): void {
    this.headerWritten = true
    const session = (this.opts.session ?? '').replace(/[^\x21-\x7e]/g, '_')
    const line = RECORDING_MAGIC + ' protocol=' + this.protocol + ' session=' + session + ' first-seq=' + firstSeq + '\n'
    this.used += this.chunk.write(line.slice(0, MAX_HEADER_BYTES), this.used, 'latin1')
  }

  /** Queues the filled part of the chunk for writing and starts a fresh chunk (one allocation per MiB). */
  private handOff(): void {
    if (this.used === 0) return
    const full = this.chunk.subarray(0, this.used)
    this.chunk = Buffer.allocUnsafe(this.chunkBytes)
    this.used = 0
    this.queue.push(full)
    this.backlog += full.length
    if (!this.writing) this.writeNext()
  }

  private writeNext(): void {
    const b = this.queue.shift()
    if (!b) {
      this.writing = false
      const d = this.drained
      if (d) { this.drained = null; d() }
      return
    }
    this.writing = true
    this.stats.writes++
    fs.write(this.fd, b, 0, b.length, null, (e, n) => this.onWritten(e, n, b))
  }

  private onWritten(e: NodeJS.ErrnoException | null, n: number, b: Buffer): void {
    if (e) { this.stats.writeErrors++; this.lastError = e.message; this.backlog -= b.length; this.writeNext(); return }
    this.stats.bytesWritten += n
    if (n < b.length) { this.queue.unshift(b.subarray(n)); this.backlog -= n } // short write: the rest goes first
    else this.backlog -= b.length
    this.writeNext()
  }
}

function openNewCapture(path: string): number {
  try {
    return fs.openSync(path, 'wx')
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code !== 'EEXIST') throw new BootError('RECORD_OPEN', `cannot create the capture file ${path}: ${err.message}`)
  }
  if (fs.statSync(path).size > 0) {
    throw new BootError('RECORD_EXISTS', `${path} already holds a capture; move it away or choose another record= path (tickcast never overwrites or appends to a capture)`)
  }
  return fs.openSync(path, 'r+')
}

export interface RecordingHeader {
  protocol: string
  session: string
  firstSeq: number
  /** offset of the first record */
  dataOffset: number
}

/** The header of a tickcast capture, or null when `buf` is not one. */
export function parseRecordingHeader(buf: Buffer): RecordingHeader | null {
  const head = buf.toString('latin1', 0, Math.min(buf.length, MAX_HEADER_BYTES))
  if (!head.startsWith(RECORDING_MAGIC + ' ')) return null
  const nl = head.indexOf('\n')
  if (nl < 0) return null
  const fields = new Map(head.slice(RECORDING_MAGIC.length + 1, nl).split(' ').map((kv) => {
    const i = kv.indexOf('=')
    return [i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1)] as const
  }))
  return { protocol: fields.get('protocol') ?? '', session: fields.get('session') ?? '', firstSeq: Number(fields.get('first-seq') ?? 0), dataOffset: nl + 1 }
}

export interface RecordSink {
  /** one recorded payload `buf[off, off + len)` and its receive time (Unix epoch µs) */
  record(buf: Buffer, off: number, len: number, recvTimeUs: number): void
}

export const RECORDING_OK = 0, RECORDING_TRUNCATED = 1, RECORDING_BAD = 2

/** Calls `sink.record` per record (views into `buf`); a last record cut short is reported, not thrown. */
export function readRecording(buf: Buffer, sink: RecordSink): number {
  const h = parseRecordingHeader(buf)
  if (!h) return RECORDING_BAD
  let o = h.dataOffset
  while (o < buf.length) {
    if (o + REC_HDR_LEN > buf.length) return RECORDING_TRUNCATED
    const len = buf.readUInt16BE(o)
    if (o + REC_HDR_LEN + len > buf.length) return RECORDING_TRUNCATED
    sink.record(buf, o + REC_HDR_LEN, len, buf.readUInt32BE(o + OFF_REC_TIME_HI) * TWO32 + buf.readUInt32BE(o + OFF_REC_TIME_LO))
    o += REC_HDR_LEN + len
  }
  return RECORDING_OK
}
