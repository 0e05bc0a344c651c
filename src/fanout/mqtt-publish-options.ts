// Owns the PUBLISH options of each kind of MQTT message: QoS, retain, MQTT 5 properties and the per-event user
// properties `n` and `t`. Must never hand one per-event object to two publishes: mqtt.js keeps a QoS 1 packet's
// properties by reference until its PUBACK (and resends them after a reconnect), so a reused object would be rewritten.
import type { IClientPublishOptions } from 'mqtt'
import { CONTENT_TYPES, FORMAT_JSON } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'

export interface PublishOptionsConfig {
  format: WireFormat
  /** MQTT 5: content type, payload format indicator, expiry, user properties; false (3.1.1): none of them */
  v5: boolean
  /** message expiry of retained quotes, seconds; 0 = none */
  quoteExpirySec: number
  /** QoS of live trades and status events (and of the retained last trade) */
  tradesQos: 0 | 1
  /** trades are retained on their topic: the broker keeps the last one per symbol for late subscribers */
  retainLastTrade: boolean
}

type Props = NonNullable<IClientPublishOptions['properties']>

/**
 * One base options object per kind, built once. Under MQTT 5 every event publish carries its per-symbol sequence `n`
 * and its event time `t` (µs since the epoch, as in the payload) as user properties, so a consumer can order, dedupe
 * or filter without decoding the payload. That costs one small object and two strings per publish; mqtt.js itself
 * allocates its options copy, the packet and a closure per publish, so this roughly doubles a cost it already has.
 */
export class PublishOptions {
  /** retained quote: QoS 0, expires after quoteExpirySec */
  readonly quote: IClientPublishOptions
  /** a trade on the trades topic: tradesQos, retained when retainLastTrade */
  readonly trade: IClientPublishOptions
  /** a live status event on the trades topic: never retained (the retained status has its own topic) */
  readonly statusEvent: IClientPublishOptions
  /** retained per-symbol stale/fresh state: no expiry, true until the next state says otherwise */
  readonly state: IClientPublishOptions
  /** retained per-symbol trading status: no expiry, as for state */
  readonly trading: IClientPublishOptions
  readonly v5: boolean

  constructor(cfg: PublishOptionsConfig) {
    this.v5 = cfg.v5
    const props: Props = { contentType: CONTENT_TYPES[cfg.format], payloadFormatIndicator: cfg.format === FORMAT_JSON }
    const withProps = (o: IClientPublishOptions, p: Props): IClientPublishOptions => (cfg.v5 ? { ...o, properties: p } : o)
    this.quote = withProps({ qos: 0, retain: true }, cfg.quoteExpirySec > 0 ? { ...props, messageExpiryInterval: cfg.quoteExpirySec } : props)
    this.trade = withProps({ qos: cfg.tradesQos, retain: cfg.retainLastTrade }, props)
    this.statusEvent = withProps({ qos: cfg.tradesQos, retain: false }, props)
    this.state = withProps({ qos: 0, retain: true }, props)
    this.trading = withProps({ qos: 0, retain: true }, props)
  }

  /** `base` plus the user properties n and t (a new object per call); `base` itself under MQTT 3.1.1. */
  stamped(base: IClientPublishOptions, n: number, tUs: number): IClientPublishOptions {
    if (!this.v5) return base
    const p = base.properties as Props
    const userProperties = { n: String(n), t: String(tUs) }
    return {
      qos: base.qos, retain: base.retain,
      properties: p.messageExpiryInterval === undefined
        ? { contentType: p.contentType, payloadFormatIndicator: p.payloadFormatIndicator, userProperties }
        : { contentType: p.contentType, payloadFormatIndicator: p.payloadFormatIndicator, messageExpiryInterval: p.messageExpiryInterval, userProperties },
    }
  }
}
