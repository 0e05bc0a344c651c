// Benchmark: WebSocket fan-out of tickcast vs a naive `ws` server vs nats-server's WebSocket listener, same feed,
// same load generator (forked processes of lean clients). Never used by the server itself.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as hdr from 'hdr-histogram-js'
import { loadUniverse } from '../feeds/sim/universe.js'
import type { ClientSpec, TargetKind, WorkerCommand, WorkerReport } from './lib/load-worker.js'
import { cpuSec, freePort, rssBytes, spawnReady, stop, stopAll, track, waitPort } from './lib/procs.js'

const USAGE = `Usage: npm run bench:fanout -- [options]

The team's comparison: tickcast vs a naive \`ws\` server vs nats-server's WebSocket listener, same simulator, same
load generator. To load-test a deployment of your own, use the bench CLI: npm run bench -- --help.

  --targets <list>           tickcast,tickcast-auth,nats,naive             (default tickcast,nats,naive)
  --subs <list>              subscriber counts                             (default 100,1000; --full adds 10000)
  --rates <list>             feed msgs/s, 0 = as fast as possible          (default 20000,0)
  --symbols <n>              simulator symbols                             (default 500)
  --symbols-per-sub <n>      symbols per subscriber                        (default 50)
  --duration-sec <n>         measured seconds per cell                     (default 10)
  --procs <n>                load-generator processes                      (default 2)
  --tickcast-args <'...'>    extra tickcast flags
  --no-slow                  skip the 1,000-client cell with 500 clients not reading
  --full                     10,000 subscribers and idle memory per connection too
  --out <file>               results JSON (default bench/results/fanout-<time>.json)
  --max-sec <n>              hard stop of the whole run                    (default 900)
  --help                     this text
`
let parsed
try {
  parsed = parseArgs({ options: {
  full: { type: 'boolean', default: false },
  'duration-sec': { type: 'string', default: '10' },
  targets: { type: 'string', default: 'tickcast,nats,naive' },
  subs: { type: 'string' },
  rates: { type: 'string', default: '20000,0' },
  symbols: { type: 'string', default: '500' },
  'symbols-per-sub': { type: 'string', default: '50' },
  procs: { type: 'string', default: '2' },
  'tickcast-args': { type: 'string', default: '' },
  'no-slow': { type: 'boolean', default: false },
  out: { type: 'string' },
  'max-sec': { type: 'string', default: '900' },
  help: { type: 'boolean', default: false },
} })
} catch (e) { process.stderr.write(`bench:fanout: ${(e as Error).message}\n\n${USAGE}`); process.exit(2) }
const a = parsed.values
if (a.help) { process.stdout.write(USAGE); process.exit(0) }
const DURATION_MS = Number(a['duration-sec']) * 1000
const CALL_TIMEOUT_MS = Math.max(60_000, 3 * DURATION_MS)
// The whole run is bounded, and stops every process it started however it ends (deadline, signal, error).
const abort = (why: string, code: number): void => { console.error(`bench:fanout stopped: ${why}`); void stopAll().then(() => process.exit(code)) }
setTimeout(() => abort(`over --max-sec ${a['max-sec']}`, 1), Number(a['max-sec']) * 1000).unref()
process.once('SIGINT', () => abort('SIGINT', 130))
process.once('SIGTERM', () => abort('SIGTERM', 143))
const WARMUP_MS = 2000
const SUBS = (a.subs ?? (a.full ? '100,1000,10000' : '100,1000')).split(',').map(Number)
const RATES = a.rates!.split(',').map(Number)
const TARGETS = a.targets!.split(',') as TargetKind[]
const SYMBOLS = Number(a.symbols), PER_SUB = Number(a['symbols-per-sub']), PROCS = Number(a.procs)
const NATS_BIN = '/usr/sbin/nats-server'
const here = fileURLToPath(new URL('.', import.meta.url))
const dist = (p: string): string => join(here, '..', p)

interface Cell {
  target: TargetKind; subscribers: number; symbolsPerSub: number; rate: number | 'max'; paused: number
  connected: number; updatesPerSec: number; framesPerSec: number; mbPerSec: number
  p50Ms: number; p99Ms: number; p999Ms: number; serverCpuPct: number; serverRssMiB: number
  updatesPerCpuSec: number; controls: Record<string, number>; closeCodes: Record<string, number>; idleBytesPerConn?: number
}

const names = loadUniverse().slice(0, SYMBOLS).map((r) => r.symbol)
function pickSymbols(seed: number): string[] { // deterministic per client index (LCG), the same for every target
  let x = (seed * 2654435761 + 1) >>> 0
  const chosen = new Set<string>()
  while (chosen.size < Math.min(PER_SUB, names.length)) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; chosen.add(names[x % names.length]) }
  return Array.from(chosen)
}

class LoadProc {
  readonly child: ChildProcess
  private waiters: Array<(m: { ev: string } & Record<string, unknown>) => void> = []
  constructor() {
    this.child = track(fork(join(here, 'lib', 'load-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    this.child.on('message', (m: { ev: string }) => { const w = this.waiters.shift(); if (w) w(m as { ev: string } & Record<string, unknown>) })
  }
  next<T>(): Promise<T> { return new Promise((r) => this.waiters.push(r as (m: unknown) => void)) }
  /** Fails the run (children are stopped) when a load worker does not answer: a baseline that never accepts
   *  its connections must not hang the benchmark. */
  async call<T>(cmd: WorkerCommand): Promise<T> {
    const p = this.next<T>()
    this.child.send(cmd)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`load worker did not answer '${cmd.cmd}' within ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS) })
    try { return await Promise.race([p, late]) } finally { clearTimeout(timer) }
  }
}

interface Target { pids: number[]; host: string; port: number; path: string; stop(): Promise<void> }

/** tickcast-auth: one API key per client (hashes only in the file), entitled through a role listing every symbol by name. */
const benchKey = (c: number): string => `bench-key-${c}`
function authArgs(subs: number): string[] {
  const dir = join(tmpdir(), `tickcast-bench-auth-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const keys = Array.from({ length: subs }, (_, c) => ({ sha256: createHash('sha256').update(benchKey(c)).digest('hex'), principal: `client-${c}`, roles: ['bench'] }))
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys }))
  writeFileSync(join(dir, 'roles.json'), JSON.stringify({ roles: { bench: { symbols: names } } }))
  return ['--auth-api-keys-file', join(dir, 'keys.json'), '--auth-roles-file', join(dir, 'roles.json')]
}

async function startTarget(kind: TargetKind, feedPort: number, subs: number): Promise<Target> {
  if (kind === 'tickcast' || kind === 'tickcast-auth') {
    const extra = [...(a['tickcast-args'] ? a['tickcast-args'].split(' ') : []), ...(kind === 'tickcast-auth' ? authArgs(subs) : [])]
    const { child, match } = await spawnReady('node', [dist('src/main.js'), '--port', '0', '--mqtt-url', 'none', '--log-level', 'warn',
      '--feed', `sim=native:tcp://127.0.0.1:${feedPort}`, ...extra], /ws:\/\/127\.0\.0\.1:(\d+)\/v1\/stream/)
    return { pids: [child.pid!], host: '127.0.0.1', port: Number(match[1]), path: '/v1/stream', stop: () => stop(child) }
  }
  if (kind === 'naive') {
    const { child, match } = await spawnReady('node', [dist('bench/baselines/naive-ws-server.js'), '--port', '0', '--feed-port', String(feedPort)], /"port":(\d+)/)
    return { pids: [child.pid!], host: '127.0.0.1', port: Number(match[1]), path: '/v1/stream', stop: () => stop(child) }
  }
  const natsPort = await freePort(), wsPort = await freePort()
  const conf = join(tmpdir(), `tickcast-bench-nats-${process.pid}.conf`)
  writeFileSync(conf, `listen: 127.0.0.1:${natsPort}\nmax_pending: 67108864\nwebsocket { host: 127.0.0.1, port: ${wsPort}, no_tls: true }\n`)
  const { spawn } = await import('node:child_process')
  const nats = track(spawn(NATS_BIN, ['-c', conf], { stdio: 'ignore' }))
  await waitPort(natsPort); await waitPort(wsPort)
  const { child: pub } = await spawnReady('node', [dist('bench/baselines/nats-publisher.js'), '--nats-port', String(natsPort), '--feed-port', String(feedPort)], /listening/)
  return { pids: [nats.pid!, pub.pid!], host: '127.0.0.1', port: wsPort, path: '/', stop: async () => { await stop(pub); await stop(nats) } }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function runCell(kind: TargetKind, subs: number, rate: number, paused: number, idleOnly = false): Promise<Cell> {
  const { child: sim, match } = await spawnReady('node', [dist('feeds/sim.js'), '--port', '0', '--rate', String(rate), '--symbols', String(SYMBOLS)], /"port":(\d+)/)
  const target = await startTarget(kind, Number(match[1]), subs)
  const procs = Array.from({ length: PROCS }, () => new LoadProc())
  try {
    await Promise.all(procs.map((p) => p.next()))
    await sleep(500)
    const rssBefore = target.pids.reduce((s, p) => s + rssBytes(p), 0)
    const specs: ClientSpec[][] = procs.map(() => [])
    for (let c = 0; c < subs; c++) {
      specs[c % PROCS].push({ symbols: idleOnly ? [] : pickSymbols(c), paused: c < paused * 2 && c % 2 === 0, token: kind === 'tickcast-auth' ? benchKey(c) : undefined })
    }
    const conn = await Promise.all(procs.map((p, k) => p.call<{ n: number }>({ cmd: 'connect', kind, host: target.host, port: target.port, path: target.path, clients: specs[k] })))
    const connected = conn.reduce((s, c) => s + c.n, 0)
    await sleep(WARMUP_MS)
    if (idleOnly) {
      const rssAfter = target.pids.reduce((s, p) => s + rssBytes(p), 0)
      return { ...empty(kind, subs, rate, paused, connected), serverRssMiB: rssAfter / 2 ** 20, idleBytesPerConn: (rssAfter - rssBefore) / Math.max(1, connected) }
    }
    const cpu0 = target.pids.reduce((s, p) => s + cpuSec(p), 0)
    await Promise.all(procs.map((p) => p.call({ cmd: 'reset' })))
    await sleep(DURATION_MS)
    const reps = await Promise.all(procs.map((p) => p.call<WorkerReport>({ cmd: 'report' })))
    const cpu = target.pids.reduce((s, p) => s + cpuSec(p), 0) - cpu0
    const rss = target.pids.reduce((s, p) => s + rssBytes(p), 0)
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
    const controls: Record<string, number> = {}, closeCodes: Record<string, number> = {}
    let updates = 0, frames = 0, bytes = 0, secs = 0
    for (const r of reps) {
      updates += r.updates; frames += r.frames; bytes += r.bytes; secs = Math.max(secs, r.elapsedMs / 1000)
      h.add(hdr.decodeFromCompressedBase64(r.hist))
      for (const [k, v] of Object.entries(r.controlTypes)) controls[k] = (controls[k] ?? 0) + v
      for (const [k, v] of Object.entries(r.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v
    }
    const q = (p: number): number => Math.round(h.getValueAtPercentile(p) / 10) / 100
    return {
      target: kind, subscribers: subs, symbolsPerSub: PER_SUB, rate: rate === 0 ? 'max' : rate, paused, connected,
      updatesPerSec: Math.round(updates / secs), framesPerSec: Math.round(frames / secs), mbPerSec: Math.round(bytes / secs / 2 ** 20 * 10) / 10,
      p50Ms: q(50), p99Ms: q(99), p999Ms: q(99.9), serverCpuPct: Math.round((cpu / secs) * 100), serverRssMiB: Math.round(rss / 2 ** 20),
      updatesPerCpuSec: Math.round(updates / Math.max(cpu, 0.01)), controls, closeCodes,
    }
  } finally {
    await Promise.all(procs.map((p) => { p.child.send({ cmd: 'close' }); return stop(p.child) }))
    await target.stop()
    await stop(sim)
  }
}

function empty(target: TargetKind, subscribers: number, rate: number, paused: number, connected: number): Cell {
  return { target, subscribers, symbolsPerSub: 0, rate: rate === 0 ? 'max' : rate, paused, connected, updatesPerSec: 0, framesPerSec: 0, mbPerSec: 0,
    p50Ms: 0, p99Ms: 0, p999Ms: 0, serverCpuPct: 0, serverRssMiB: 0, updatesPerCpuSec: 0, controls: {}, closeCodes: {} }
}

function row(c: Cell): string {
  const cols = [c.target, c.subscribers, c.paused, c.rate, c.connected, c.updatesPerSec, c.framesPerSec, c.mbPerSec, c.p50Ms, c.p99Ms, c.p999Ms,
    c.serverCpuPct, c.serverRssMiB, c.updatesPerCpuSec, Object.keys(c.closeCodes).length ? JSON.stringify(c.closeCodes) : '']
  return cols.map((v, k) => String(v).padStart(k === 0 ? 9 : k === 14 ? 1 : 10)).join(' ')
}

async function main(): Promise<void> {
  const cells: Cell[] = []
  const useNats = TARGETS.includes('nats') && (await import('node:fs')).existsSync(NATS_BIN)
  if (TARGETS.includes('nats') && !useNats) console.log(`nats-server not found at ${NATS_BIN}: NATS baseline SKIPPED`)
  console.log(['target', 'subs', 'paused', 'rate/s', 'conn', 'updates/s', 'frames/s', 'MiB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'srv CPU%', 'RSS MiB', 'upd/CPUs', 'closes']
    .map((v, k) => v.padStart(k === 0 ? 9 : k === 14 ? 1 : 10)).join(' '))
  for (const subs of SUBS) {
    for (const rate of RATES) {
      for (const t of TARGETS) {
        if (t === 'nats' && !useNats) continue
        const c = await runCell(t, subs, rate, 0)
        cells.push(c); console.log(row(c))
      }
    }
  }
  if (!a['no-slow'] && TARGETS.includes('tickcast')) { // 500 of 1,000 clients stop reading
    const c = await runCell('tickcast', 1000, 20000, 500)
    cells.push(c); console.log(row(c))
  }
  if (a.full && TARGETS.includes('tickcast')) {
    const c = await runCell('tickcast', 10000, 20000, 0, true)
    cells.push(c); console.log(`idle connections: ${c.connected}, server RSS ${c.serverRssMiB.toFixed(0)} MiB, ${Math.round(c.idleBytesPerConn!)} bytes per connection`)
  }
  console.log('\nratios (tickcast / baseline):')
  for (const subs of SUBS) for (const rate of RATES) {
    const r = rate === 0 ? 'max' : rate
    const find = (t: TargetKind): Cell | undefined => cells.find((c) => c.target === t && c.subscribers === subs && c.rate === r && c.paused === 0 && c.idleBytesPerConn === undefined)
    const tc = find('tickcast')
    if (!tc) continue
    const au = cells.filter((c) => c.target === 'tickcast-auth' && c.subscribers === subs && c.rate === r)
    const off = cells.filter((c) => c.target === 'tickcast' && c.subscribers === subs && c.rate === r && c.paused === 0 && c.idleBytesPerConn === undefined)
    const mean = (cs: Cell[]): number => cs.reduce((s, c) => s + c.updatesPerSec, 0) / cs.length
    if (au.length > 0) console.log(`  ${subs} subs @ ${r}: auth on ${Math.round(mean(au))} vs off ${Math.round(mean(off))} updates/s (mean of ${au.length}/${off.length} runs): ${((mean(au) / mean(off) - 1) * 100).toFixed(1)} %`)
    for (const b of ['nats', 'naive'] as const) {
      const bc = find(b)
      if (!bc) continue
      console.log(`  ${subs} subs @ ${r}: updates/s ×${(tc.updatesPerSec / Math.max(1, bc.updatesPerSec)).toFixed(2)} vs ${b}; p99 ${tc.p99Ms} vs ${bc.p99Ms} ms (×${(tc.p99Ms / Math.max(0.001, bc.p99Ms)).toFixed(2)}); updates per server CPU-s ×${(tc.updatesPerCpuSec / Math.max(1, bc.updatesPerCpuSec)).toFixed(2)}`)
    }
  }
  const dir = join(here, '..', '..', 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = a.out ?? join(dir, `fanout-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`)
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), args: a, cells }, null, 2))
  console.log(`\nresults: ${file}`)
}

main().then(() => stopAll()).then(() => process.exit(0), async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
