// Owns the processes of one bench:bus topology: the feed simulator (rate stepped over stdin) and tickcast nodes
// (single, ingest, edge) started from dist/, with their /metrics read as plain numbers. Must never outlive the bench.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { freePort, stop, track, waitPort } from '../lib/procs.js'

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')

/** The simulator with --stdin-control: `rate <n>` paces it, `count` reads the messages it has sent. */
export class Sim {
  private waiters: Array<(m: { messages: number; timeMs: number }) => void> = []
  private constructor(readonly child: ChildProcess, readonly port: number) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try { const m = JSON.parse(l) as { event: string; messages: number; timeMs: number }; if (m.event === 'count' || m.event === 'rate') this.waiters.shift()?.(m) } catch { /* not ours */ }
    })
  }
  static async start(rate: number, symbols: number, seed: number): Promise<Sim> {
    const port = await freePort()
    const child = track(spawn(process.execPath, [join(dist, 'feeds/sim.js'), '--port', String(port), '--rate', String(rate), '--symbols', String(symbols),
      '--seed', String(seed), '--stdin-control'], { stdio: ['pipe', 'pipe', 'inherit'] }))
    await waitPort(port, 20_000)
    return new Sim(child, port)
  }
  private ask(line: string): Promise<{ messages: number; timeMs: number }> {
    return new Promise((r) => { this.waiters.push(r); this.child.stdin!.write(line + '\n') })
  }
  setRate(n: number): Promise<{ messages: number; timeMs: number }> { return this.ask(`rate ${n}`) }
  count(): Promise<{ messages: number; timeMs: number }> { return this.ask('count') }
  stop(): Promise<void> { return stop(this.child) }
}

export interface Node { name: string; child: ChildProcess; port: number; metricsPort: number; url: string; stop(): Promise<void>; kill(): void }

/** A tickcast process from dist/ on ports chosen here (so no log line has to be parsed). */
export async function startNode(name: string, args: string[]): Promise<Node> {
  const port = await freePort(), metricsPort = await freePort()
  const child = track(spawn(process.execPath, [join(dist, 'src/main.js'), '--port', String(port), '--metrics-port', String(metricsPort),
    '--mqtt-url', 'none', '--log-level', 'warn', ...args], { stdio: ['ignore', 'ignore', 'inherit'] }))
  await waitPort(port, 30_000)
  return { name, child, port, metricsPort, url: `ws://127.0.0.1:${port}/v1/stream`, stop: () => stop(child), kill: () => { child.kill('SIGKILL') } }
}

/** One scrape as name{labels} → value (the first sample of each series line). */
export async function scrape(n: Node): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  try {
    const text = await (await fetch(`http://127.0.0.1:${n.metricsPort}/metrics`)).text()
    for (const l of text.split('\n')) {
      if (l === '' || l.startsWith('#')) continue
      const k = l.lastIndexOf(' ')
      out.set(l.slice(0, k), Number(l.slice(k + 1)))
    }
  } catch { /* a dead node has no metrics */ }
  return out
}

/** One series (`name{labels}` exactly), or the sum over a family's series when given a bare name. */
export function num(m: Map<string, number>, key: string): number {
  const v = m.get(key)
  if (v !== undefined || key.includes('{')) return v ?? 0
  let sum = 0
  for (const [k, x] of m) if (k.startsWith(key + '{')) sum += x
  return sum
}
