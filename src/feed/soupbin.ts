// Owns the SoupBinTCP 4.0 wire format: packet types, OFF_* offsets, builders into caller buffers, login parsers.
// Must never own sockets or state, and never allocate per sequenced message (login fields may allocate: rare).

// Every packet, big-endian length (counts type + payload, not the 2 length bytes):
// 0        2      3
// | len u16 | type | payload …(len - 1 bytes)
export const OFF_LEN = 0
export const OFF_TYPE = 2
export const OFF_PAYLOAD = 3
export const HEADER_BYTES = 3
/** largest length field value (u16) and the largest whole packet including the 2 length bytes */
export const MAX_BODY_BYTES = 65535
export const MAX_PACKET_BYTES = 65537

// Packet types (ASCII). Server → client:
export const PKT_DEBUG = 0x2b //          '+' text
export const PKT_LOGIN_ACCEPTED = 0x41 // 'A'
export const PKT_LOGIN_REJECTED = 0x4a // 'J'
export const PKT_SEQUENCED = 0x53 //      'S' one message; its sequence number is implicit
export const PKT_UNSEQUENCED = 0x55 //    'U' (both directions)
export const PKT_SERVER_HEARTBEAT = 0x48 // 'H'
export const PKT_END_OF_SESSION = 0x5a // 'Z'
// Client → server:
export const PKT_LOGIN_REQUEST = 0x4c // 'L'
export const PKT_CLIENT_HEARTBEAT = 0x52 // 'R'
export const PKT_LOGOUT_REQUEST = 0x4f // 'O'

// Login Request 'L', 49 bytes (length field 47); alpha right-padded, seq numeric left-padded with spaces
// 0     2   3          9            19                29                           49
// | len | L | user a6  | password a10 | session a10     | requested seq n20           |
export const OFF_LOGIN_USER = 3, LOGIN_USER_LEN = 6
export const OFF_LOGIN_PASSWORD = 9, LOGIN_PASSWORD_LEN = 10
export const OFF_LOGIN_SESSION = 19, SESSION_LEN = 10
export const OFF_LOGIN_SEQ = 29, SEQ_LEN = 20
export const LOGIN_REQUEST_BYTES = 49

// Login Accepted 'A', 33 bytes (length field 31); session LEFT-padded, seq = next sequenced message to come
// 0     2   3             13                           33
// | len | A | session a10 | sequence n20               |
export const OFF_ACCEPTED_SESSION = 3
export const OFF_ACCEPTED_SEQ = 13
export const LOGIN_ACCEPTED_BYTES = 33

// Login Rejected 'J', 4 bytes: | len | J | reason a1 |
export const OFF_REJECT_REASON = 3
export const LOGIN_REJECTED_BYTES = 4
export const REJECT_NOT_AUTHORIZED = 0x41 //       'A'
export const REJECT_SESSION_UNAVAILABLE = 0x53 //  'S'

/**
 * Length field a server packet must carry, by type byte: n = exactly n, 0 = any (text, unsequenced data), -1 = not a
 * server packet. Sequenced Data is checked against the payload protocol's largest message instead. A frame that breaks
 * this is corruption: a stray byte read as a type must not end a session (End of Session counts only when well-formed).
 */
export const SERVER_PACKET_LENGTHS = new Int32Array(256).fill(-1)
SERVER_PACKET_LENGTHS[PKT_SERVER_HEARTBEAT] = 1; SERVER_PACKET_LENGTHS[PKT_END_OF_SESSION] = 1
SERVER_PACKET_LENGTHS[PKT_LOGIN_ACCEPTED] = LOGIN_ACCEPTED_BYTES - 2; SERVER_PACKET_LENGTHS[PKT_LOGIN_REJECTED] = LOGIN_REJECTED_BYTES - 2
SERVER_PACKET_LENGTHS[PKT_DEBUG] = 0; SERVER_PACKET_LENGTHS[PKT_UNSEQUENCED] = 0

/** an empty packet (heartbeats, end of session, logout): length 1, type only */
export const EMPTY_PACKET_BYTES = 3

const SPACE = 0x20, ZERO = 0x30, NINE = 0x39

/** Writes the 3-byte header of a packet whose payload is `payloadLen` bytes; returns HEADER_BYTES. */
export function writeHeader(buf: Buffer, off: number, type: number, payloadLen: number): number {
  const len = payloadLen + 1
  buf[off] = len >>> 8; buf[off + 1] = len & 0xff; buf[off + OFF_TYPE] = type
  return HEADER_BYTES
}

/** Header of a Sequenced Data packet; the caller copies the payload at off + OFF_PAYLOAD. */
export function writeSequencedHeader(buf: Buffer, off: number, payloadLen: number): number {
  return writeHeader(buf, off, PKT_SEQUENCED, payloadLen)
}

/** Heartbeats ('H', 'R'), End of Session ('Z'), Logout Request ('O'): type byte only. */
export function writeEmpty(buf: Buffer, off: number, type: number): number {
  buf[off] = 0; buf[off + 1] = 1; buf[off + OFF_TYPE] = type
  return EMPTY_PACKET_BYTES
}

/** ASCII alpha, left-justified, right-padded with spaces (longer values are cut). */
export function writeAlpha(buf: Buffer, off: number, width: number, value: string): void {
  const n = value.length < width ? value.length : width
  for (let i = 0; i < n; i++) buf[off + i] = value.charCodeAt(i) & 0xff
  buf.fill(SPACE, off + n, off + width)
}

/** ASCII alpha, right-justified, left-padded with spaces (the Login Accepted session). */
export function writeAlphaLeftPadded(buf: Buffer, off: number, width: number, value: string): void {
  const n = value.length < width ? value.length : width, pad = width - n
  buf.fill(SPACE, off, off + pad)
  for (let i = 0; i < n; i++) buf[off + pad + i] = value.charCodeAt(i) & 0xff
}

/** Numeric ASCII, right-justified, left-padded with spaces. `value` must be a safe non-negative integer. */
export function writeNumeric(buf: Buffer, off: number, width: number, value: number): void {
  let v = Math.floor(value), i = off + width - 1
  do { buf[i--] = ZERO + (v % 10); v = Math.floor(v / 10) } while (v > 0 && i >= off)
  while (i >= off) buf[i--] = SPACE
}

/** Reads a numeric field, tolerating spaces on either side; -1 if empty, not digits, or over 2^53. */
export function readNumeric(buf: Buffer, off: number, width: number): number {
  let i = off, end = off + width
  while (i < end && buf[i] === SPACE) i++
  while (end > i && buf[end - 1] === SPACE) end--
  if (i === end) return -1
  let v = 0
  for (; i < end; i++) {
    const c = buf[i]
    if (c < ZERO || c > NINE) return -1
    v = v * 10 + (c - ZERO)
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1
}

/** Reads an alpha field with the padding (either side) removed. */
export function readAlpha(buf: Buffer, off: number, width: number): string {
  let i = off, end = off + width
  while (i < end && buf[i] === SPACE) i++
  while (end > i && buf[end - 1] === SPACE) end--
  return buf.toString('latin1', i, end)
}

export function writeLoginRequest(buf: Buffer, off: number, username: string, password: string,
  session: string, requestedSeq: number): number {
  writeHeader(buf, off, PKT_LOGIN_REQUEST, LOGIN_REQUEST_BYTES - HEADER_BYTES)
  writeAlpha(buf, off + OFF_LOGIN_USER, LOGIN_USER_LEN, username)
  writeAlpha(buf, off + OFF_LOGIN_PASSWORD, LOGIN_PASSWORD_LEN, password)
  writeAlpha(buf, off + OFF_LOGIN_SESSION, SESSION_LEN, session)
  writeNumeric(buf, off + OFF_LOGIN_SEQ, SEQ_LEN, requestedSeq)
  return LOGIN_REQUEST_BYTES
}

export function writeLoginAccepted(buf: Buffer, off: number, session: string, nextSeq: number): number {
  writeHeader(buf, off, PKT_LOGIN_ACCEPTED, LOGIN_ACCEPTED_BYTES - HEADER_BYTES)
  writeAlphaLeftPadded(buf, off + OFF_ACCEPTED_SESSION, SESSION_LEN, session)
  writeNumeric(buf, off + OFF_ACCEPTED_SEQ, SEQ_LEN, nextSeq)
  return LOGIN_ACCEPTED_BYTES
}

export function writeLoginRejected(buf: Buffer, off: number, reason: number): number {
  writeHeader(buf, off, PKT_LOGIN_REJECTED, 1)
  buf[off + OFF_REJECT_REASON] = reason
  return LOGIN_REJECTED_BYTES
}

/** Parsed Login Request; one object per server connection, filled by parseLoginRequest. */
export class LoginRequest {
  username = ''
  password = ''
  session = ''
  /** 0 = next live message; -1 = unreadable */
  requestedSeq = -1
}

// Parsers take a packet view as the framer hands it out: `off` points at the TYPE byte, `len` = length field.
export const BODY_OFF_PAYLOAD = 1

/** true if the body is a well-formed Login Request (type and length checked). */
export function parseLoginRequest(buf: Buffer, off: number, len: number, out: LoginRequest): boolean {
  if (len !== LOGIN_REQUEST_BYTES - 2 || buf[off] !== PKT_LOGIN_REQUEST) return false
  const base = off - 2 // OFF_* count from the length field
  out.username = readAlpha(buf, base + OFF_LOGIN_USER, LOGIN_USER_LEN)
  out.password = readAlpha(buf, base + OFF_LOGIN_PASSWORD, LOGIN_PASSWORD_LEN)
  out.session = readAlpha(buf, base + OFF_LOGIN_SESSION, SESSION_LEN)
  out.requestedSeq = readNumeric(buf, base + OFF_LOGIN_SEQ, SEQ_LEN)
  return out.requestedSeq >= 0
}

/** Login Accepted sequence number from a body view (type byte at `off`); -1 if malformed. */
export function acceptedSeq(buf: Buffer, off: number, len: number): number {
  if (len !== LOGIN_ACCEPTED_BYTES - 2 || buf[off] !== PKT_LOGIN_ACCEPTED) return -1
  return readNumeric(buf, off - 2 + OFF_ACCEPTED_SEQ, SEQ_LEN)
}

/** Login Accepted session id from a body view; '' if malformed. */
export function acceptedSession(buf: Buffer, off: number, len: number): string {
  if (len !== LOGIN_ACCEPTED_BYTES - 2 || buf[off] !== PKT_LOGIN_ACCEPTED) return ''
  return readAlpha(buf, off - 2 + OFF_ACCEPTED_SESSION, SESSION_LEN)
}

/** Login Rejected reason byte ('A' or 'S') from a body view; -1 if malformed. */
export function rejectReason(buf: Buffer, off: number, len: number): number {
  if (len !== LOGIN_REJECTED_BYTES - 2 || buf[off] !== PKT_LOGIN_REJECTED) return -1
  return buf[off + BODY_OFF_PAYLOAD]
}

/** Preallocated constant packets: safe to hand to socket.write repeatedly because nobody mutates them. */
function constantPacket(type: number): Buffer {
  const b = Buffer.alloc(EMPTY_PACKET_BYTES)
  writeEmpty(b, 0, type)
  return b
}
export const SERVER_HEARTBEAT_PACKET = constantPacket(PKT_SERVER_HEARTBEAT)
export const CLIENT_HEARTBEAT_PACKET = constantPacket(PKT_CLIENT_HEARTBEAT)
export const END_OF_SESSION_PACKET = constantPacket(PKT_END_OF_SESSION)
export const LOGOUT_REQUEST_PACKET = constantPacket(PKT_LOGOUT_REQUEST)
