// Owns the Nasdaq GLIMPSE 5.0 wire contract that tickcast's snapshot client and the feed tools' snapshot server share.
// Must never hold session logic: GLIMPSE is a SoupBinTCP session (soupbin.ts) carrying ITCH 5.0 plus one message here.
import { readNumeric, writeNumeric } from './soupbin.js'

/*
 * A GLIMPSE session: Login (any requested sequence), Login Accepted, then Sequenced Data packets carrying the current
 * book as ITCH 5.0 messages (System Event, Stock Directory R, Stock Trading Action H, Reg SHO Y, Add Order A/F for
 * every live order, in time priority), and last the End of Snapshot message:
 *
 *   0      1                                21
 *   | 'M'  | sequence number, numeric ASCII 20 (right-justified, space-padded on the left, as SoupBinTCP numerics) |
 *
 * The sequence number is where the real-time ITCH session resumes: the snapshot reflects every real-time message
 * below it, so the client logs in to the real-time session requesting exactly this number (not this number + 1).
 * tickcast's servers (feeds/glimpse) write it that way; the reading is documented in feeds/README.md.
 * 'M' is not an ITCH 5.0 message type, so it can never be mistaken for book data.
 */
export const MSG_END_OF_SNAPSHOT = 0x4d // 'M'
export const END_OF_SNAPSHOT_BYTES = 21
const OFF_SEQ = 1, SEQ_LEN = 20

/** Writes the 21-byte End of Snapshot payload at `off`; returns its length. */
export function writeEndOfSnapshot(buf: Buffer, off: number, nextSeq: number): number {
  buf[off] = MSG_END_OF_SNAPSHOT
  writeNumeric(buf, off + OFF_SEQ, SEQ_LEN, nextSeq)
  return END_OF_SNAPSHOT_BYTES
}

/** The payload's resume sequence when it is a well-formed End of Snapshot (≥ 1); -1 when it is not one. */
export function endOfSnapshotSeq(buf: Buffer, off: number, len: number): number {
  if (len !== END_OF_SNAPSHOT_BYTES || buf[off] !== MSG_END_OF_SNAPSHOT) return -1
  const seq = readNumeric(buf, off + OFF_SEQ, SEQ_LEN)
  return seq >= 1 ? seq : -1
}
