import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Framer, FRAMER_OK } from './framer.js'
import {
  LOGIN_ACCEPTED_BYTES, LOGIN_REQUEST_BYTES, LoginRequest, OFF_TYPE, PKT_CLIENT_HEARTBEAT, PKT_SEQUENCED,
  PKT_SERVER_HEARTBEAT, PKT_UNSEQUENCED, REJECT_SESSION_UNAVAILABLE, acceptedSeq, acceptedSession,
  parseLoginRequest, readNumeric, rejectReason, writeLoginAccepted, writeLoginRejected, writeLoginRequest,
  writeNumeric, writeSequencedHeader,
} from './soupbin.js'
import { tcpPayloads } from '../../test-support/pcap-tcp.js'

/** the repository's copy of the captures (feeds/samples), so a fresh clone's tests need nothing beside it */
const SAMPLES = fileURLToPath(new URL('../../feeds/samples/reference/soupbintcp-ouch50', import.meta.url))

describe('SoupBinTCP builders and parsers', () => {
  it('round-trips a Login Request with the exact wire bytes', () => {
    const b = Buffer.alloc(LOGIN_REQUEST_BYTES)
    expect(writeLoginRequest(b, 0, 'ab', 'pw', '', 12345)).toBe(49)
    expect(b.toString('latin1')).toBe('\x00\x2fL' + 'ab'.padEnd(6) + 'pw'.padEnd(10) + ' '.repeat(10) + '12345'.padStart(20))
    const out = new LoginRequest()
    expect(parseLoginRequest(b, 2, 47, out)).toBe(true)
    expect([out.username, out.password, out.session, out.requestedSeq]).toEqual(['ab', 'pw', '', 12345])
    writeLoginRequest(b, 0, 'USER01', 'secret', 'SESS000001', 0)
    expect(parseLoginRequest(b, 2, 47, out)).toBe(true)
    expect([out.username, out.password, out.session, out.requestedSeq]).toEqual(['USER01', 'secret', 'SESS000001', 0])
    expect(parseLoginRequest(b, 2, 46, out)).toBe(false)
  })

  it('round-trips Login Accepted (session left-padded) and Login Rejected', () => {
    const b = Buffer.alloc(LOGIN_ACCEPTED_BYTES)
    writeLoginAccepted(b, 0, 'S1', 2 ** 53 - 1)
    expect(b.toString('latin1', 2)).toBe('A' + 'S1'.padStart(10) + '9007199254740991'.padStart(20))
    expect(acceptedSeq(b, 2, 31)).toBe(2 ** 53 - 1)
    expect(acceptedSession(b, 2, 31)).toBe('S1')
    const r = Buffer.alloc(4)
    writeLoginRejected(r, 0, REJECT_SESSION_UNAVAILABLE)
    expect([...r]).toEqual([0, 2, 0x4a, 0x53])
    expect(rejectReason(r, 2, 2)).toBe(0x53)
  })

  it('rejects malformed numeric fields', () => {
    expect(readNumeric(Buffer.from('   '), 0, 3)).toBe(-1)
    expect(readNumeric(Buffer.from(' 1 2'), 0, 4)).toBe(-1)
    expect(readNumeric(Buffer.from('99999999999999999999'), 0, 20)).toBe(-1)
    expect(readNumeric(Buffer.from('42   '), 0, 5)).toBe(42)
    const b = Buffer.alloc(5); writeNumeric(b, 0, 5, 0)
    expect(b.toString()).toBe('    0')
  })

  it('writes a sequenced header that counts type + payload', () => {
    const b = Buffer.alloc(3)
    writeSequencedHeader(b, 0, 300)
    expect([...b]).toEqual([1, 45, PKT_SEQUENCED])
  })
})

describe('real SoupBinTCP bytes (Nasdaq OUCH 5.0 captures)', () => {
  // Expected types and length fields from feeds-samples/README.md §3.
  const expected: Record<string, [number, number]> = {
    'ServerHeartbeatPacket.pcap': [PKT_SERVER_HEARTBEAT, 1],
    'ClientHeartbeatPacket.pcap': [PKT_CLIENT_HEARTBEAT, 1],
    'EnterOrderMessage.pcap': [PKT_UNSEQUENCED, 54],
    'OrderAcceptedMessage.pcap': [PKT_SEQUENCED, 74],
    'CanceledMessage.pcap': [PKT_SEQUENCED, 19],
    'CancelOrderMessage.pcap': [PKT_UNSEQUENCED, 10],
  }

  it('frames every capture into exactly the documented packet', () => {
    const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.pcap')).sort()
    expect(files).toEqual(Object.keys(expected).sort())
    for (const file of files) {
      const payloads = tcpPayloads(join(SAMPLES, file))
      const got: [number, number][] = []
      const f = new Framer((buf, off, len) => { got.push([buf[off], len]) })
      for (const p of payloads) expect(f.push(p)).toBe(FRAMER_OK)
      expect(got, file).toEqual([expected[file]])
      expect(f.carried, file).toBe(0)
    }
  })

  it('reads the server heartbeat as the bytes 00 01 48', () => {
    const [p] = tcpPayloads(join(SAMPLES, 'ServerHeartbeatPacket.pcap'))
    expect([...p]).toEqual([0x00, 0x01, 0x48])
    expect(p[OFF_TYPE]).toBe(PKT_SERVER_HEARTBEAT)
  })
})
