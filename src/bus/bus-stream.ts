// Owns the JetStream stream tickcast publishes to: creating it when missing, checking an existing one matches.
// Must never change an existing stream's settings: a mismatch is a boot error an operator resolves.
import { RetentionPolicy, StorageType } from 'nats'
import type { JetStreamManager, StreamConfig } from 'nats'
import { BootError } from '../errors.js'

export interface BusStreamOptions {
  name: string
  /** subject prefix; the stream holds `${prefix}.>` */
  prefix: string
  replicas: number
  maxAgeSec: number
  /** history kept per subject (-1 = unlimited, bounded by maxAgeSec) */
  maxMsgsPerSubject: number
  /** Nats-Msg-Id de-duplication window (hot-hot ingest) */
  duplicateWindowSec: number
}

const NS_PER_SEC = 1_000_000_000

function wanted(o: BusStreamOptions): Partial<StreamConfig> {
  return {
    name: o.name, subjects: [`${o.prefix}.>`], retention: RetentionPolicy.Limits, storage: StorageType.File,
    num_replicas: o.replicas, max_age: o.maxAgeSec * NS_PER_SEC, max_msgs_per_subject: o.maxMsgsPerSubject,
    duplicate_window: o.duplicateWindowSec * NS_PER_SEC, allow_direct: true,
  }
}

/** Creates the stream, or validates an existing one; throws BootError BUS_STREAM_MISMATCH naming every difference. */
export async function ensureBusStream(jsm: JetStreamManager, o: BusStreamOptions): Promise<void> {
  const want = wanted(o)
  let have: StreamConfig
  try {
    have = (await jsm.streams.info(o.name)).config
  } catch (e) {
    if (!String(e).includes('not found')) throw new BootError('BUS_UNAVAILABLE', `stream ${o.name}: ${String(e)}`)
    await jsm.streams.add(want)
    return
  }
  const diffs: string[] = []
  if (!have.subjects.includes(`${o.prefix}.>`)) diffs.push(`subjects ${JSON.stringify(have.subjects)} lack ${o.prefix}.>`)
  for (const k of ['num_replicas', 'max_age', 'max_msgs_per_subject', 'duplicate_window', 'allow_direct'] as const) {
    if (have[k] !== want[k]) diffs.push(`${k} is ${String(have[k])}, configured ${String(want[k])}`)
  }
  if (diffs.length > 0) throw new BootError('BUS_STREAM_MISMATCH', `stream ${o.name} exists with other settings: ${diffs.join('; ')} (change the stream or the --bus-* options)`)
}
