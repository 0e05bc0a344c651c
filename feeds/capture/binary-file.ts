// Owns Nasdaq BinaryFILE reading: a file of [u16 BE length][message] records, numbered from 1.
// Must never copy messages: each one is handed on as a view of the file buffer.
import { CaptureStats } from './capture-types.js'
import type { MessageSink } from './capture-types.js'

export const BINFILE_OK = 0, BINFILE_TRUNCATED = 1

/**
 * Calls `sink.message(buf, off, len, seq)` per record, seq counting from `firstSeq`. A last record cut
 * short (fewer bytes than its length) is counted in `stats.truncated` and ends reading.
 * Returns BINFILE_OK or BINFILE_TRUNCATED; `stats.messages` holds how many were delivered.
 */
export function readBinaryFile(buf: Buffer, sink: MessageSink, stats: CaptureStats = new CaptureStats(), firstSeq = 1): number {
  let o = 0, seq = firstSeq
  const end = buf.length
  while (o < end) {
    if (o + 2 > end) { stats.truncated++; return BINFILE_TRUNCATED }
    const len = buf.readUInt16BE(o)
    if (o + 2 + len > end) { stats.truncated++; return BINFILE_TRUNCATED }
    stats.messages++
    sink.message(buf, o + 2, len, seq++)
    o += 2 + len
  }
  return BINFILE_OK
}

/** Bench/replay entry: every BinaryFILE record straight into a payload decoder; returns messages decoded. */
export function decodeBinaryFile(buf: Buffer, decoder: { decode(buf: Buffer, off: number, len: number): number }): number {
  let o = 0, n = 0
  while (o + 2 <= buf.length) {
    const len = buf.readUInt16BE(o)
    if (o + 2 + len > buf.length) break
    decoder.decode(buf, o + 2, len)
    o += 2 + len; n++
  }
  return n
}
