// Owns a minimal classic-pcap walker that extracts TCP payloads (Ethernet, optional 802.1Q, IPv4, TCP).
// Must never be used outside tests: it ignores IPv6, fragments and TCP reassembly on purpose.
import { readFileSync } from 'node:fs'

// pcap global header 24 bytes; magic d4c3b2a1 (µs) or 4d3cb2a1 (ns) when written little-endian.
// record: | ts_sec u32 | ts_frac u32 | incl_len u32 | orig_len u32 | frame (incl_len bytes) |
const GLOBAL_HEADER_BYTES = 24, RECORD_HEADER_BYTES = 16, OFF_INCL_LEN = 8
const OFF_ETHERTYPE = 12, ETHERTYPE_VLAN = 0x8100, ETHERTYPE_IPV4 = 0x0800, IP_PROTO_TCP = 6

/** TCP payloads (non-empty) of every IPv4 packet in a classic pcap file, in file order. */
export function tcpPayloads(path: string): Buffer[] {
  const f = readFileSync(path), out: Buffer[] = []
  const magic = f.readUInt32BE(0)
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1
  if (!le && magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('not a classic pcap: ' + path)
  let p = GLOBAL_HEADER_BYTES
  while (p + RECORD_HEADER_BYTES <= f.length) {
    const incl = le ? f.readUInt32LE(p + OFF_INCL_LEN) : f.readUInt32BE(p + OFF_INCL_LEN)
    const frame = p + RECORD_HEADER_BYTES
    p = frame + incl
    let eth = frame + OFF_ETHERTYPE, type = f.readUInt16BE(eth)
    if (type === ETHERTYPE_VLAN) { eth += 4; type = f.readUInt16BE(eth) }
    if (type !== ETHERTYPE_IPV4) continue
    const ip = eth + 2, ihl = (f[ip] & 0x0f) * 4, ipTotal = f.readUInt16BE(ip + 2)
    if (f[ip + 9] !== IP_PROTO_TCP) continue
    const tcp = ip + ihl, tcpHeader = (f[tcp + 12] >>> 4) * 4
    const start = tcp + tcpHeader, end = ip + ipTotal // ip total length, not incl_len: frames carry trailers
    if (end > start) out.push(f.subarray(start, end))
  }
  return out
}
