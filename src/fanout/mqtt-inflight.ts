// Owns the bound on QoS 1 publishes awaiting their PUBACK: the broker's Receive Maximum (MQTT 5 §3.2.2.3.3), capped.
// Must never let the count pass its limit (mqtt.js would keep every unacknowledged packet in memory) nor go below zero.

/** MQTT 5's default and largest Receive Maximum; a 3.1.1 broker (aedes, the embedded one) announces none. */
export const RECEIVE_MAXIMUM_DEFAULT = 65535
/**
 * Our own ceiling whatever the broker announces: mqtt.js holds each unacknowledged packet with its options and payload
 * (~1 KB), so 1024 in flight is about the 1 MiB the socket backlog is bounded to. mosquitto announces 20 by default.
 */
export const MAX_INFLIGHT = 1024

export class InflightWindow {
  /** QoS 1 publishes sent and not yet acknowledged (read at scrape time) */
  count = 0
  /** the current bound: min(the broker's Receive Maximum, cap) */
  limit: number
  /** mqtt.js calls this once per QoS 1 publish: on PUBACK, or with an error when it gives the packet up. Bound once. */
  readonly release = (): void => { if (this.count > 0) this.count-- }

  constructor(private readonly cap = MAX_INFLIGHT) { this.limit = cap }

  /** From each CONNACK: the broker may announce a different Receive Maximum after a reconnect. */
  setReceiveMaximum(receiveMaximum: number | undefined): void {
    this.limit = Math.min(receiveMaximum ?? RECEIVE_MAXIMUM_DEFAULT, this.cap)
  }

  /** true: the caller may publish one more QoS 1 message (counted); false: the window is full, drop it. */
  tryAcquire(): boolean {
    if (this.count >= this.limit) return false
    this.count++
    return true
  }
}
