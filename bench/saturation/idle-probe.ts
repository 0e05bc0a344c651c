// Owns `node dist/bench/saturation/idle-probe.js`: the saturation benchmark's idle-memory part alone, tickcast and bare
// uWS in the same run, alternating, so a change to per-connection state is measured in a minute rather than a full run.
// Must never measure differently from the benchmark: it calls the same idleMemory() with the same options.
// Usage: node dist/bench/saturation/idle-probe.js [--idle-conns 14000] [--rounds 2] [other bench:saturation flags]
import { loadUniverse } from '../../feeds/sim/universe.js'
import { stopAll } from '../lib/procs.js'
import { idleMemory } from './idle-memory.js'
import { parseSaturationArgs } from './options.js'
import type { IdleResult } from './results.js'
import { pickSymbols } from './run.js'

async function main(argv: string[]): Promise<number> {
  const p = parseSaturationArgs(argv.includes('--idle-conns') ? argv : ['--idle-conns', '14000', ...argv])
  if (!p.ok) { process.stderr.write(p.errors.join('\n') + '\n'); return 2 }
  const o = p.opts
  const names = loadUniverse().slice(0, o.symbols).map((r) => r.symbol)
  const clients = Array.from({ length: o.idleConns }, (_, c) => pickSymbols(names, o.symbolsPerSub, c))
  const got: IdleResult[] = []
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? ['tickcast', 'bare-uws'] as const : ['bare-uws', 'tickcast'] as const
    for (const sys of order) got.push(await idleMemory(sys, round, o, names, clients))
  }
  const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? 0 : s[(s.length - 1) >> 1] }
  const of = (sys: string, k: 'bytesPerConn' | 'bytesPerConnSubscribed'): number[] => got.filter((r) => r.system === sys && r.status === 'ok').map((r) => r[k])
  for (const k of ['bytesPerConn', 'bytesPerConnSubscribed'] as const) {
    const t = of('tickcast', k), b = of('bare-uws', k)
    console.log(`${k}: tickcast ${t.join(', ')} B; bare uWS ${b.join(', ')} B; median ratio ×${(med(t) / Math.max(1, med(b))).toFixed(2)}`)
  }
  return 0
}

main(process.argv.slice(2)).then(async (code) => { await stopAll(); process.exit(code) }, async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
