// Owns the `mqtt` scenario: N MQTT.js subscribers on per-symbol topics or wildcards; messages/s, data age, retained check.
// Must never leave a client connected: every client is ended in finally, forced after a short grace.
import * as hdr from 'hdr-histogram-js'
import type { MqttClient } from 'mqtt'
import { unpack } from 'msgpackr'
import { fetchSymbols, globalIndex, pickSymbols, reasonOf } from '../cli/crowd.js'
import { emptyResult, shareOf, sleep } from '../cli/scenario.js'
import type { RunContext, RunResult, Scenario } from '../cli/scenario.js'
import { wallClockUs } from '../lib/lean-ws.js'

/** The exchange time `t` (µs) of a tickcast MQTT payload (msgpack by default, or JSON); 0 when it has none. */
function exchangeTime(payload: Buffer): number {
  try {
    const ev = (payload[0] === 123 ? JSON.parse(payload.toString('utf8')) : unpack(payload)) as { t?: number }
    return typeof ev?.t === 'number' ? ev.t : 0
  } catch { return 0 }
}

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  // loaded here, not at start-up: `tickcast-bench --help` and the other scenarios do not pay for MQTT.js
  const { default: mqtt } = await import('mqtt')
  const url = ctx.target.mqtt
  if (!url) throw new Error('no MQTT broker: give --mqtt mqtt://host:port')
  const prefix = String(o.prefix)
  const names = await fetchSymbols(ctx.target)
  const per = o['topics-per-client'] as number
  const wildcard = typeof o.wildcard === 'string' && o.wildcard !== '' ? o.wildcard : null
  const n = shareOf(o.clients as number, ctx.share)
  const r = emptyResult()
  const clients: MqttClient[] = []
  const failures: Record<string, number> = {}
  let messages = 0, bytes = 0, retainedTopics = 0, retainedExpected = 0, measuring = false
  try {
    ctx.meter.label = 'connecting'
    await Promise.all(Array.from({ length: n }, async (_, k) => {
      const syms = pickSymbols(names, per, globalIndex(k, ctx.share))
      const topics = wildcard ? [wildcard] : syms.flatMap((s) => [`${prefix}/quotes/${s.replaceAll('+', '%2B')}`, ...(o.trades ? [`${prefix}/trades/${s.replaceAll('+', '%2B')}`] : [])])
      const c = mqtt.connect(url, {
        clientId: `tickcast-bench-${process.pid}-${globalIndex(k, ctx.share)}`, reconnectPeriod: 0, connectTimeout: 10_000, clean: true,
        protocolVersion: (o['mqtt-protocol'] as number) === 5 ? 5 : 4,
        ...(o['mqtt-username'] ? { username: String(o['mqtt-username']), password: String(o['mqtt-password'] ?? '') } : {}),
      })
      clients.push(c)
      const seenRetained = new Set<string>()
      c.on('message', (topic, payload, packet) => {
        const now = wallClockUs()
        if (packet.retain) { if (!seenRetained.has(topic)) { seenRetained.add(topic); retainedTopics++ } return }
        ctx.meter.updates++
        if (!measuring) return
        messages++; bytes += payload.length
        const t = exchangeTime(payload)
        if (t > 0) ctx.meter.record(now - t)
      })
      try {
        await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); c.once('close', () => reject(new Error('closed'))) })
        await c.subscribeAsync(topics, { qos: 0 })
        ctx.meter.connections++
        // retained-on-subscribe: every quotes topic of a symbol that has traded holds its last quote
        if (!wildcard) retainedExpected += syms.length
      } catch (e) {
        const why = reasonOf(e)
        failures[why] = (failures[why] ?? 0) + 1
        ctx.meter.errors++
      }
    }))
    ctx.meter.label = 'warmup'
    await sleep(Math.max(ctx.warmupSec, 1) * 1000, ctx.signal) // the retained messages arrive right after SUBACK
    ctx.meter.total.reset(); ctx.meter.label = ''
    measuring = true
    const t0 = performance.now()
    await sleep(ctx.durationSec * 1000, ctx.signal)
    r.elapsedSec = (performance.now() - t0) / 1000
    measuring = false
    r.rates.messages = messages
    r.rates.bytes = bytes
    r.counts.connections = clients.filter((c) => c.connected).length
    r.counts.failed = Object.values(failures).reduce((a, b) => a + b, 0)
    for (const [k, v] of Object.entries(failures)) r.counts[`failed_${k}`] = v
    r.counts.errors = r.counts.failed
    if (!wildcard) { r.counts.retained_expected = retainedExpected; r.counts.retained_received = retainedTopics; r.counts.retained_missing = Math.max(0, retainedExpected - retainedTopics) }
    else r.counts.retained_received = retainedTopics
    r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    r.notes = [`${String(o.clients)} MQTT clients on ${url}, ${wildcard ? `wildcard ${wildcard}` : `${per} symbols each (${prefix}/quotes/{SYMBOL}${o.trades ? ' and trades' : ''})`}, QoS 0`,
      'retained_missing: quote topics that held no retained message on subscribe (a symbol that has not quoted yet has none); data age = receive − exchange time']
    return r
  } finally {
    await Promise.all(clients.map((c) => new Promise<void>((resolve) => { c.end(true, {}, () => resolve()); setTimeout(resolve, 1000).unref() })))
  }
}

export const mqttScenario: Scenario = {
  name: 'mqtt',
  summary: 'N MQTT.js subscribers on per-symbol topics or a wildcard; delivered messages/s, data age, retained-on-subscribe check',
  description: `Connects --clients MQTT.js clients to the deployment's broker (--mqtt; the embedded server's broker when no
--url), each subscribing the quote topics ({prefix}/quotes/{SYMBOL}, plus trades with --trades) of
--topics-per-client symbols, or one --wildcard filter (e.g. 'md/v1/quotes/+'). Checks that each quote topic delivers
its retained last quote on subscribe, then measures live messages/s and data age (receive − exchange time).
Metrics: messages, bytes (per second), p50..max (ms), retained_expected, retained_received, retained_missing, failed.`,
  splittable: true,
  needsMqtt: true,
  options: [
    { name: 'clients', type: 'number', default: 20, placeholder: 'n', help: 'MQTT clients' },
    { name: 'topics-per-client', type: 'number', default: 20, placeholder: 'n', help: 'symbols each client subscribes' },
    { name: 'wildcard', type: 'string', placeholder: "'md/v1/quotes/+'", help: 'subscribe this filter instead of per-symbol topics' },
    { name: 'trades', type: 'boolean', default: false, help: 'also subscribe the trades topics' },
    { name: 'prefix', type: 'string', default: 'md/v1', placeholder: 'topic prefix', help: "the deployment's --mqtt-prefix" },
    { name: 'mqtt-protocol', type: 'number', default: 4, placeholder: '4|5', help: 'MQTT protocol version' },
    { name: 'mqtt-username', type: 'string', placeholder: 'user', help: 'broker username' },
    { name: 'mqtt-password', type: 'string', placeholder: 'secret', help: 'broker password' },
  ],
  run,
}
