// Owns bench:bus's view of the load generators: forked lean-client processes (bench/lib/load-worker.ts) pointed at
// one node each, and merging their reports into updates/s and a data-age histogram. Must never parse data frames here.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as hdr from 'hdr-histogram-js'
import type { ClientSpec, WorkerCommand, WorkerReport } from '../lib/load-worker.js'
import { stop, track } from '../lib/procs.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const CALL_TIMEOUT_MS = 120_000

export class LoadProc {
  readonly child: ChildProcess
  private waiters: Array<(m: unknown) => void> = []
  constructor() {
    this.child = track(fork(join(here, '..', 'lib', 'load-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    this.child.on('message', (m) => { this.waiters.shift()?.(m) })
  }
  next<T>(): Promise<T> { return new Promise((r) => this.waiters.push(r as (m: unknown) => void)) }
  async call<T>(cmd: WorkerCommand): Promise<T> {
    const p = this.next<T>()
    this.child.send(cmd)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`load worker did not answer '${cmd.cmd}'`)), CALL_TIMEOUT_MS) })
    try { return await Promise.race([p, late]) } finally { clearTimeout(timer) }
  }
  async close(): Promise<void> { if (this.child.connected) this.child.send({ cmd: 'close' }); await stop(this.child) }
}

/** The clients of one node (one or more load processes). */
export class NodeLoad {
  private constructor(readonly name: string, private readonly procs: LoadProc[], readonly connected: number) {}

  static async connect(name: string, port: number, clients: ClientSpec[], procs: number): Promise<NodeLoad> {
    const ps = Array.from({ length: procs }, () => new LoadProc())
    await Promise.all(ps.map((p) => p.next()))
    const specs: ClientSpec[][] = ps.map(() => [])
    clients.forEach((c, k) => specs[k % procs].push(c))
    const conn = await Promise.all(ps.map((p, k) => p.call<{ n: number; failed: number }>({ cmd: 'connect', kind: 'tickcast', host: '127.0.0.1', port, path: '/v1/stream', clients: specs[k] })))
    const n = conn.reduce((s, c) => s + c.n, 0)
    // a figure from fewer clients than asked would be a different load: the run fails instead of printing it
    if (n < clients.length) { await Promise.all(ps.map((p) => p.close())); throw new Error(`${name}: ${n} of ${clients.length} clients connected`) }
    return new NodeLoad(name, ps, n)
  }

  async reset(): Promise<void> { await Promise.all(this.procs.map((p) => p.call({ cmd: 'reset' }))) }

  /** Updates/s and data age (feed exchange timestamp → client receive) since the last reset. */
  async report(): Promise<NodeFigures> {
    const reps = await Promise.all(this.procs.map((p) => p.call<WorkerReport>({ cmd: 'report' })))
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
    let updates = 0, secs = 0, open = 0
    for (const r of reps) { updates += r.updates; secs = Math.max(secs, r.elapsedMs / 1000); open += r.open; h.add(hdr.decodeFromCompressedBase64(r.hist)) }
    const ms = (p: number): number => Math.round(h.getValueAtPercentile(p) / 10) / 100
    return { node: this.name, clients: this.connected, open, updatesPerSec: Math.round(updates / Math.max(secs, 0.001)), samples: h.totalCount, p50Ms: ms(50), p99Ms: ms(99), p999Ms: ms(99.9),
      hist: hdr.encodeIntoCompressedBase64(h) }
  }

  async close(): Promise<void> { await Promise.all(this.procs.map((p) => p.close())) }
}

export interface NodeFigures { node: string; clients: number; open: number; updatesPerSec: number; samples: number; p50Ms: number; p99Ms: number; p999Ms: number; hist?: string }

/** p50/p99/p99.9 over several nodes' histograms together (the hist fields are dropped from the figures). */
export function combined(figs: NodeFigures[]): { samples: number; p50Ms: number; p99Ms: number; p999Ms: number } {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  for (const f of figs) { if (f.hist !== undefined) h.add(hdr.decodeFromCompressedBase64(f.hist)); delete f.hist }
  const ms = (p: number): number => Math.round(h.getValueAtPercentile(p) / 10) / 100
  return { samples: h.totalCount, p50Ms: ms(50), p99Ms: ms(99), p999Ms: ms(99.9) }
}
