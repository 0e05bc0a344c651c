// bench:bus as a user runs it (node dist/bench/bus.js), with tiny parameters against a real three-node nats-server
// cluster: it finishes within its bound, writes the JSON, and every figure it reports is there and non-zero.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const NATS = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'
const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-bus-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['dist/bench/bus.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    p.stdout.on('data', (d: Buffer) => { out += String(d) })
    p.stderr.on('data', (d: Buffer) => { err += String(d) })
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }) })
  })
}

interface Figures { p50Ms: number; p99Ms: number; p999Ms: number; samples: number }
interface RunJson { path: string; caughtUp: boolean
  dataAge: { all: Figures; perNode: Array<{ updatesPerSec: number; clients: number }>; keptUp: { rate: number; lossless: boolean; lapped: number; offeredPerSec: number } }; steps: Array<{ lossless: boolean }>
  maxLosslessRate: number | null; deliveredUpdatesPerSecPerNode: number[] | null }

describe('npm run bench:bus', () => {
  it('a usage mistake exits 2 with the usage', async () => {
    const r = await run(['--clients', 'many'], 20_000)
    expect(r.code).toBe(2)
    expect(r.err).toContain('--clients must be a positive integer')
  })

  it.skipIf(!existsSync(NATS) && !process.env.CI)('tiny run: single node beside the bus path, JSON with every figure non-zero', async () => {
    const out = join(dir, 'bus.json')
    const r = await run(['--clients', '10', '--symbols', '40', '--symbols-per-client', '4', '--rate', '1000', '--duration-sec', '2',
      '--step-rates', '1000,2000', '--step-sec', '2', '--failover-clients', '4', '--out', out, '--max-sec', '150'], 170_000)
    expect(r.code, r.err + r.out).toBe(0)
    expect(r.out).toContain('bus / single')
    expect(r.out).toContain('data-age run at 1000/s')
    expect(r.out).toContain('at 1000 quotes/s, 10 clients per node (edge)')
    const j = JSON.parse(readFileSync(out, 'utf8')) as { machine: { cpus: number }; single: RunJson; bus: RunJson
      failover: { clients: number; resumed: number; p50Ms: number; maxMs: number; recovered: number; unrecovered: number; eventsReplayed: number; breaks: number } }
    expect(j.machine.cpus).toBeGreaterThan(0)
    for (const [path, run_] of [['single', j.single], ['bus', j.bus]] as const) {
      expect(run_.path).toBe(path)
      expect(run_.dataAge.all.samples, path).toBeGreaterThan(0)
      expect(run_.dataAge.all.p50Ms, path).toBeGreaterThan(0)
      expect(run_.dataAge.all.p99Ms, path).toBeGreaterThanOrEqual(run_.dataAge.all.p50Ms)
      expect(run_.dataAge.all.p999Ms, path).toBeGreaterThanOrEqual(run_.dataAge.all.p99Ms)
      expect(run_.dataAge.perNode.length, path).toBe(path === 'bus' ? 2 : 1)
      for (const n of run_.dataAge.perNode) { expect(n.clients).toBe(10); expect(n.updatesPerSec).toBeGreaterThan(0) }
      expect(run_.steps.length, path).toBeGreaterThan(0)
      // the data-age window is accounted like a step: loss and backlog at --rate are printed beside its figures
      expect(run_.caughtUp, path).toBe(true)
      expect(run_.dataAge.keptUp, path).toMatchObject({ rate: 1000, lossless: true, lapped: 0 })
      expect(run_.dataAge.keptUp.offeredPerSec, path).toBeGreaterThan(900)
      // 1,000 events/s on two loopback nodes: anything less than lossless is a bug, not the machine
      expect(run_.maxLosslessRate, path).toBeGreaterThan(0)
      expect(run_.deliveredUpdatesPerSecPerNode?.every((u) => u > 0), path).toBe(true)
    }
    const f = j.failover
    expect(f.resumed).toBe(f.clients)
    expect(f.p50Ms).toBeGreaterThan(0)
    expect(f.maxMs).toBeGreaterThanOrEqual(f.p50Ms)
    expect(f.recovered).toBe(4 * 4) // every symbol of every client resumed from the other edge's ring
    expect(f.unrecovered).toBe(0)
    expect(f.eventsReplayed).toBeGreaterThan(0)
    expect(f.breaks).toBe(0)
  }, 180_000)
})
