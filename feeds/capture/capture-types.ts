// Owns the small contracts shared by the capture readers: packet/payload/message sinks and their counters.
// Must never hold parsing logic: readers in this folder fill these, replay and tests consume them.

/** Receives every captured link-layer frame: `buf[off, off + len)` is only valid during the call. */
export interface PacketSink {
  packet(buf: Buffer, off: number, len: number, tsUs: number, linkType: number): void
}

/** Receives transport payloads (UDP datagram or TCP segment data) after network decoding. */
export interface PayloadSink {
  payload(buf: Buffer, off: number, len: number, tsUs: number): void
}

/**
 * Receives one sequenced venue message (SessionSink-compatible: a SessionSink is a MessageSink).
 * `seq` is the venue's sequence number (IEX-TP message seq, MoldUDP64 seq, BinaryFILE ordinal from 1).
 */
export interface MessageSink {
  message(buf: Buffer, off: number, len: number, seq: number): void
}

export const LINKTYPE_ETHERNET = 1

/** Plain counters, one object per capture being read; nothing here throws. */
export class CaptureStats {
  /** link-layer frames read from pcap / pcapng */
  packets = 0
  /** frames whose captured length is shorter than their original length (snaplen cut) */
  snapped = 0
  /** a record or block that runs past the end of the file: reading stops there */
  truncated = 0
  /** unknown pcap magic, bad pcapng block length, unsupported link type */
  badBlocks = 0
  /** frames that are not IPv4 UDP/TCP (ARP, IPv6, fragments...) */
  skippedFrames = 0
  udpDatagrams = 0
  tcpSegments = 0
  /** session-layer packets (IEX-TP segments, MoldUDP64 packets) with no messages (heartbeats) */
  heartbeats = 0
  /** session-layer packets or message blocks whose lengths do not fit their container */
  badPackets = 0
  /** messages handed to the MessageSink */
  messages = 0
}
