// Owns link/network decoding of captured frames: Ethernet II, 802.1Q/802.1ad tags, IPv4, UDP and TCP.
// Must never reassemble or reorder TCP streams: it hands each segment's payload on as captured.
import { CaptureStats, LINKTYPE_ETHERNET } from './capture-types.js'
import type { PacketSink, PayloadSink } from './capture-types.js'

// Ethernet II: | dst mac 6 | src mac 6 | ethertype u16 BE |, then 0..2 VLAN tags | TPID | TCI u16 BE |.
// IPv4 (BE): byte 0 version/IHL, 2 total length, 6 flags/fragment offset, 9 protocol, 12 src, 16 dst.
// UDP (BE): | src port | dst port | length | checksum |. TCP: data offset = (byte 12 >> 4) × 4.
const ETH_HDR_LEN = 14, OFF_ETHERTYPE = 12, VLAN_TAG_LEN = 4
const ETHERTYPE_IPV4 = 0x0800, ETHERTYPE_VLAN = 0x8100, ETHERTYPE_QINQ = 0x88a8
const OFF_IP_TOTAL_LEN = 2, OFF_IP_FRAG = 6, OFF_IP_PROTO = 9, OFF_IP_SRC = 12, OFF_IP_DST = 16
const IP_PROTO_TCP = 6, IP_PROTO_UDP = 17, UDP_HDR_LEN = 8, OFF_UDP_LEN = 4, OFF_TCP_DATA_OFF = 12

export const FRAME_OK = 0, FRAME_SKIPPED = 1, FRAME_BAD = 2

/** Decoded addressing of one frame; one instance reused for every packet. */
export class NetFrame {
  vlan = -1
  proto = 0
  srcIp = 0
  dstIp = 0
  srcPort = 0
  dstPort = 0
  payloadOff = 0
  payloadLen = 0
}

/** Fills `out` for an IPv4 UDP/TCP frame; FRAME_SKIPPED for anything else, FRAME_BAD for bad lengths. */
export function parseFrame(buf: Buffer, off: number, len: number, linkType: number, out: NetFrame): number {
  if (linkType !== LINKTYPE_ETHERNET) return FRAME_SKIPPED
  const end = off + len
  if (len < ETH_HDR_LEN) return FRAME_BAD
  let o = off + OFF_ETHERTYPE, etherType = buf.readUInt16BE(o)
  out.vlan = -1
  for (let tags = 0; (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) && tags < 2; tags++) {
    if (o + 2 + VLAN_TAG_LEN > end) return FRAME_BAD
    out.vlan = buf.readUInt16BE(o + 2) & 0x0fff // the innermost tag wins
    o += VLAN_TAG_LEN
    etherType = buf.readUInt16BE(o)
  }
  if (etherType !== ETHERTYPE_IPV4) return FRAME_SKIPPED
  const ip = o + 2
  if (ip + 20 > end) return FRAME_BAD
  const vihl = buf[ip]
  if (vihl >> 4 !== 4) return FRAME_BAD
  const ihl = (vihl & 0x0f) * 4, total = buf.readUInt16BE(ip + OFF_IP_TOTAL_LEN)
  if (ihl < 20 || total < ihl || ip + total > end) return FRAME_BAD // Ethernet padding may follow `total`
  if ((buf.readUInt16BE(ip + OFF_IP_FRAG) & 0x3fff) !== 0) return FRAME_SKIPPED // fragments: not reassembled
  out.proto = buf[ip + OFF_IP_PROTO]
  out.srcIp = buf.readUInt32BE(ip + OFF_IP_SRC)
  out.dstIp = buf.readUInt32BE(ip + OFF_IP_DST)
  const l4 = ip + ihl, l4End = ip + total
  if (l4 + 4 > l4End) return FRAME_BAD
  out.srcPort = buf.readUInt16BE(l4)
  out.dstPort = buf.readUInt16BE(l4 + 2)
  if (out.proto === IP_PROTO_UDP) {
    if (l4 + UDP_HDR_LEN > l4End) return FRAME_BAD
    const udpLen = buf.readUInt16BE(l4 + OFF_UDP_LEN)
    if (udpLen < UDP_HDR_LEN || l4 + udpLen > l4End) return FRAME_BAD
    out.payloadOff = l4 + UDP_HDR_LEN; out.payloadLen = udpLen - UDP_HDR_LEN
    return FRAME_OK
  }
  if (out.proto === IP_PROTO_TCP) {
    if (l4 + 20 > l4End) return FRAME_BAD
    const dataOff = (buf[l4 + OFF_TCP_DATA_OFF] >> 4) * 4
    if (dataOff < 20 || l4 + dataOff > l4End) return FRAME_BAD
    out.payloadOff = l4 + dataOff; out.payloadLen = l4End - l4 - dataOff
    return FRAME_OK
  }
  return FRAME_SKIPPED
}

export function formatIp(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`
}

/** PacketSink that decodes each frame and passes UDP/TCP payloads on; `frame` holds the last one's addressing. */
export class TransportDemux implements PacketSink {
  readonly frame = new NetFrame()
  constructor(private readonly next: PayloadSink, readonly stats: CaptureStats = new CaptureStats()) {}
  packet(buf: Buffer, off: number, len: number, tsUs: number, linkType: number): void {
    const st = parseFrame(buf, off, len, linkType, this.frame)
    if (st === FRAME_BAD) { this.stats.badPackets++; return }
    if (st === FRAME_SKIPPED) { this.stats.skippedFrames++; return }
    if (this.frame.proto === IP_PROTO_UDP) this.stats.udpDatagrams++
    else this.stats.tcpSegments++
    this.next.payload(buf, this.frame.payloadOff, this.frame.payloadLen, tsUs)
  }
}
