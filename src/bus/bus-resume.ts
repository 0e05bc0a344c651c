// Owns what a (re)starting ingest node learns from the stream before it publishes: per symbol, the last n this stream
// epoch already stored (the bus is the state). Must never write to the stream, nor trust records of another epoch.
import { consumerOpts } from 'nats'
import type { NatsConnection } from 'nats'
import { KIND_SYMBOL, LAST_DATA_KIND } from '../ring/ring-buffer.js'
import { newRecord, readRecord } from './bus-codec.js'

/**
 * Per symbol name: the highest data n the stream holds for this epoch and that record's bytes (a restarted node checks
 * its own event of that n is the same), and whether its `sym` record is there.
 */
export interface StoredState { lastN: Map<string, number>; lastRecord: Map<string, Uint8Array>; symbols: Set<string>; messages: number }

/** Longest a start waits for the last message of every subject. */
const READ_TIMEOUT_MS = 30_000

/**
 * Reads the last message of every `${prefix}.>` subject (one ordered consumer, deliver last-per-subject) and keeps
 * those whose Nats-Msg-Id names `epoch`: a stream that outlived a feed session holds another epoch's n, which must
 * not make this node skip anything.
 */
export async function readStoredState(nc: NatsConnection, stream: string, prefix: string, epoch: string): Promise<StoredState> {
  const out: StoredState = { lastN: new Map(), lastRecord: new Map(), symbols: new Set(), messages: 0 }
  const jsm = await nc.jetstreamManager()
  const last = (await jsm.streams.info(stream)).state.last_seq
  if (last === 0) return out
  const o = consumerOpts()
  o.orderedConsumer(); o.deliverLastPerSubject(); o.bindStream(stream)
  const sub = await nc.jetstream().subscribe(`${prefix}.>`, o)
  const timer = setTimeout(() => sub.unsubscribe(), READ_TIMEOUT_MS)
  const rec = newRecord(), mine = `${epoch}:`
  try {
    for await (const m of sub) {
      out.messages++
      const name = m.subject.split('.').slice(prefix.split('.').length + 1).join('.')
      if (m.headers?.get('Nats-Msg-Id').startsWith(`${mine}${name}:`) === true) {
        readRecord(m.data, 0, rec)
        if (rec.kind === KIND_SYMBOL) out.symbols.add(name)
        else if (rec.kind <= LAST_DATA_KIND && rec.n > (out.lastN.get(name) ?? 0)) { out.lastN.set(name, rec.n); out.lastRecord.set(name, m.data.slice()) }
      }
      if (m.seq >= last || m.info.pending === 0) break
    }
  } finally {
    clearTimeout(timer)
    sub.unsubscribe()
  }
  return out
}
