// Owns the measurement behind "batch per symbol per turn where it pays" (issue 13): how many bus messages batching a
// publisher turn's events per symbol would save on the simulator's market, and what that is worth against a real
// three-node JetStream cluster (replicas 3), both publish shapes in the same run. Must never be a timed test: it prints.
import { existsSync } from 'node:fs'
import { connect } from 'nats'
import { FeedGenerator } from '../feeds/sim/generator.js'
import { loadUniverse } from '../feeds/sim/universe.js'
import { NATS_BIN, startCluster } from './bus/cluster.js'
import { BUS_RECORD_BYTES } from '../src/bus/bus-codec.js'

const TURN_MS = 2 // BusPublisher's poll period: one turn reads what the ring gained meanwhile
const MSG_TYPE_QUOTE = 0x51, MSG_TYPE_TRADE = 0x54

/** The symbol (locate) of each stream event (quotes and trades) the generator makes, `count` of them. */
function eventLocates(symbols: number, count: number): Uint32Array {
  const universe = loadUniverse()
  if (symbols > universe.length) throw new Error(`the simulator's universe has ${universe.length} symbols, not ${symbols}`)
  const gen = new FeedGenerator({ universe, symbols, seed: 13, startTimeUs: 1_700_000_000_000_000 })
  const out = new Uint32Array(count), b = Buffer.alloc(64)
  let k = 0
  for (let guard = 0; k < count && guard < count * 4; guard++) {
    gen.nextInto(b, 0)
    if (b[0] === MSG_TYPE_QUOTE || b[0] === MSG_TYPE_TRADE) out[k++] = b.readUInt32LE(4)
  }
  return out.subarray(0, k)
}

/** Bus messages per turn-batched publish: per turn of `perTurn` events, one message per distinct symbol. */
function batchSizes(locs: Uint32Array, perTurn: number): number[] {
  const sizes: number[] = [], seen = new Map<number, number>()
  for (let from = 0; from < locs.length; from += perTurn) {
    seen.clear()
    for (let k = from; k < Math.min(locs.length, from + perTurn); k++) seen.set(locs[k], (seen.get(locs[k]) ?? 0) + 1)
    for (const n of seen.values()) sizes.push(n)
  }
  return sizes
}

/** Publishes messages of `sizes[i]` records each with at most `window` awaiting their ack; returns events/s. */
async function publishRate(urls: string, stream: string, sizes: number[], window: number): Promise<number> {
  const nc = await connect({ servers: urls.split(',') })
  const js = nc.jetstream()
  let inFlight = 0, k = 0, events = 0
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < window && k < sizes.length) {
        const i = k++, n = sizes[i]
        inFlight++; events += n
        js.publish(`bb.${stream}.S${i % 997}`, Buffer.alloc(n * BUS_RECORD_BYTES, 1), { msgID: `${stream}:${i}` }).then(() => {
          inFlight--
          if (k === sizes.length && inFlight === 0) resolve(); else pump()
        }, reject)
      }
    }
    pump()
  })
  const s = (performance.now() - t0) / 1000
  await nc.close()
  return events / s
}

async function main(): Promise<void> {
  console.log('Coalescing: events per bus message if a publisher turn (2 ms) sent one message per symbol (Zipf market, sim generator)')
  for (const symbols of [50, 200, 500]) {
    const locs = eventLocates(symbols, 400_000)
    const row = [20_000, 200_000, 2_000_000].map((rate) => {
      const perTurn = Math.max(1, Math.round(rate * TURN_MS / 1000)), msgs = batchSizes(locs, perTurn).length
      return `${rate.toLocaleString('en-US')}/s: ${(locs.length / msgs).toFixed(2)}`
    })
    console.log(`  ${String(symbols).padStart(5)} symbols  ${row.join('   ')}`)
  }
  if (!existsSync(NATS_BIN)) { console.log('no nats-server: publish rates not measured'); return }
  const cluster = await startCluster(3)
  try {
    const nc = await connect({ servers: cluster.urls.split(',') })
    const jsm = await nc.jetstreamManager()
    for (const name of ['ONE', 'TURN']) await jsm.streams.add({ name, subjects: [`bb.${name}.>`], num_replicas: 3 })
    await nc.close()
    const locs = eventLocates(500, 60_000)
    // the 20,000 events/s, and the favourable 200,000 events/s
    const shapes = [20_000, 200_000].map((rate) => ({ rate, sizes: batchSizes(locs, Math.round(rate * TURN_MS / 1000)) }))
    const one = new Array<number>(locs.length).fill(1)
    // alternate the shapes so load on this shared machine hits all alike; the best of 2 each
    const rOne: number[] = [], rTurn: number[][] = shapes.map(() => [])
    for (let rep = 0; rep < 2; rep++) {
      rOne.push(await publishRate(cluster.urls, 'ONE', one, 2000))
      for (const [k, s] of shapes.entries()) rTurn[k].push(await publishRate(cluster.urls, 'TURN', s.sizes, 2000))
    }
    const a = Math.max(...rOne)
    console.log('JetStream R3 (3 local nats-server), 500 symbols, up to 2,000 publishes awaiting their ack:')
    console.log(`  one message per event                          ${Math.round(a).toLocaleString('en-US')} events/s`)
    for (const [k, s] of shapes.entries()) {
      const b = Math.max(...rTurn[k])
      console.log(`  per symbol per turn at ${s.rate.toLocaleString('en-US')}/s (${(locs.length / s.sizes.length).toFixed(2)} events/msg) ${Math.round(b).toLocaleString('en-US')} events/s   ratio ${(b / a).toFixed(2)}×`)
    }
  } finally { await cluster.stop() }
}

await main()
