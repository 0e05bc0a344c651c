// Owns the benchmark's feed: the simulator process with --stdin-control, stepped to a fixed offered rate.
// Must never infer what was offered: it reads the simulator's own message count at each step's edges.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stop, track } from '../lib/procs.js'

const here = fileURLToPath(new URL('.', import.meta.url))
export interface SimCount { rate: number; messages: number; timeMs: number }

export class SteppedSim {
  private readonly waiters: Array<(c: SimCount) => void> = []
  private constructor(readonly child: ChildProcess, readonly port: number) {}

  static async start(rate: number, symbols: number, timeoutMs = 20_000): Promise<SteppedSim> {
    const child = track(spawn(process.execPath, [join(here, '..', '..', 'feeds', 'sim.js'), '--port', '0', '--rate', String(rate),
      '--symbols', String(symbols), '--stdin-control'], { stdio: ['pipe', 'pipe', 'inherit'] }))
    let buf = '', sim: SteppedSim | null = null
    return new Promise<SteppedSim>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('simulator not listening in time')), timeoutMs)
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`simulator exited ${code}`)) })
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString()
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl); buf = buf.slice(nl + 1)
          let m: { event?: string; port?: number } & Partial<SimCount>
          try { m = JSON.parse(line) as typeof m } catch { continue }
          if (m.event === 'listening') { clearTimeout(timer); sim = new SteppedSim(child, m.port!); resolve(sim) }
          else if ((m.event === 'rate' || m.event === 'count') && sim) sim.waiters.shift()?.({ rate: m.rate!, messages: m.messages!, timeMs: m.timeMs! })
        }
      })
    })
  }

  private ask(line: string): Promise<SimCount> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`simulator did not answer "${line}"`)), 10_000)
      this.waiters.push((c) => { clearTimeout(timer); resolve(c) })
      this.child.stdin!.write(line + '\n')
    })
  }
  setRate(rate: number): Promise<SimCount> { return this.ask(`rate ${rate}`) }
  count(): Promise<SimCount> { return this.ask('count') }
  async stop(): Promise<void> { this.child.stdin!.end(); await stop(this.child) }
}
