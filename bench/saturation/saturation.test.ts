// Runs the saturation benchmark for real at toy scale (tickcast, nats-server, the naive server and bare uWS as real
// processes) and checks the result's shape and that a failing baseline is reported without ending the run.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { parseOptions as parseOptionsT } from '../cli/options.js'
import type { Meter as MeterT, Scenario } from '../cli/scenario.js'
import type { SaturationOptions, SaturationResult } from './results.js'

// The benchmark forks its load processes and servers from dist/ (vitest's global setup builds it), so the runner is
// loaded from there too: the processes it starts are exactly what `npm run bench:saturation` starts.
type RunModule = { runSaturation: (o: SaturationOptions, command?: string) => Promise<SaturationResult> }
const load = async (): Promise<RunModule> => await import(new URL('../../dist/bench/saturation/run.js', import.meta.url).href) as RunModule

const dir = mkdtempSync(join(tmpdir(), 'tickcast-saturation-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const natsAvailable = existsSync(process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server')

function tiny(over: Partial<SaturationOptions>): SaturationOptions {
  return {
    systems: ['tickcast'], subs: 12, symbols: 40, symbolsPerSub: 5, steps: [400, 1600], stepSec: 0.3, settleSec: 0.2, warmupSec: 0.3,
    idleSettleSec: 0.05, rounds: 1, procs: 1, idleConns: 0, p99LimitMs: 2000, completeRatio: 0.5, maxRssMiB: 2048, maxSec: 60,
    connectTimeoutMs: 5000, tickcastArgs: [], out: join(dir, 'out.json'), log: () => {}, ...over,
  }
}

describe('runSaturation', () => {
  it.skipIf(!natsAvailable && !process.env.CI)('steps tickcast and batched nats-server through the same feed, measures idle memory against bare uWS, and writes the JSON', async () => {
    const { runSaturation } = await load()
    const out = join(dir, 'ok.json')
    const res = await runSaturation(tiny({ systems: ['tickcast', 'nats-batched'], idleConns: 40, out }))
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(res)))
    expect(res.schema).toBe('tickcast-saturation/1')
    expect(res.machine.cpus).toBeGreaterThan(0)
    expect(res.clocks).toMatch(/wall clock/)
    for (const sys of ['tickcast', 'nats-batched'] as const) {
      const run = res.runs.find((r) => r.system === sys)!
      expect(run, sys).toMatchObject({ status: 'ok', connected: 12 })
      expect(run.steps.map((s) => s.target)).toEqual([400, 1600])
      expect(run.steps.reduce((sum, s) => sum + s.cpuUsPerUpdate, 0), sys).toBeGreaterThan(0)
      for (const s of run.steps) {
        // a quiet toy load: every update arrives, in sequence, each with its own age
        expect(s.updatesPerSec).toBeGreaterThan(0)
        expect(s.gaps + s.dups + s.stale + s.snaps + s.silent).toBe(0)
        expect(s.p50Ms).toBeGreaterThan(0)
        // the same updates aged from their load process's turn start: never older than from their own read
        expect(s.p99AtTurnStartMs).toBeGreaterThan(0)
        expect(s.p99AtTurnStartMs).toBeLessThanOrEqual(s.p99Ms)
        expect(s.loadReadsPerSec).toBeGreaterThan(0)
        expect(s.framesPerSec).toBeGreaterThan(0)
        // CPU is read in 10 ms ticks: one 0.3 s toy step on a loaded machine may see none, a whole run may not
        expect(Number.isFinite(s.cpuUsPerUpdate) && s.cpuUsPerUpdate >= 0).toBe(true)
        expect(s.offered).toBeGreaterThan(s.target * 0.5)
      }
    }
    // nats-server packs several NATS messages into one WebSocket frame; batched, a message holds a turn's events
    const nb = res.runs.find((r) => r.system === 'nats-batched')!.steps[1]
    expect(nb.updatesPerSec).toBeGreaterThanOrEqual(nb.messagesPerSec)
    // a few connections a wave are too few for a figure to beat the process's own drift every time: the shape is checked,
    // and a wave across which memory fell must say so rather than give a negative figure (idle-memory.ts says how many
    // waves: the 40 connections are split evenly among them)
    const waves = res.idle[0].rssMiB.length - 1, perWave = Math.floor(40 / waves)
    expect(waves).toBeGreaterThanOrEqual(4)
    expect(res.idle.map((i) => [i.system, i.connected])).toEqual([['tickcast', waves * perWave], ['bare-uws', waves * perWave]])
    for (const i of res.idle) {
      expect(i.rssMiB).toHaveLength(waves + 1)
      if (i.status === 'ok') expect(Math.min(i.bytesPerConn, i.bytesPerConnSubscribed)).toBeGreaterThan(0)
      else expect(i.error).toMatch(/fell/)
    }
    expect(res.summary.ratios.map((r) => r.baseline)).toEqual(['nats-batched'])
    expect(res.summary.targets.map((t) => t.name)).toHaveLength(4)
  }, 90_000) // two systems stepped, then seven idle waves for each of two servers: ~19 s alone here, more beside the rest of the suite

  it('as the bench CLI\'s saturation scenario: a baseline that cannot start is reported as failed, the others run, the JSON is written', async () => {
    const { saturation } = await import(new URL('../../dist/bench/scenarios/saturation.js', import.meta.url).href) as { saturation: Scenario }
    const { Meter } = await import(new URL('../../dist/bench/cli/scenario.js', import.meta.url).href) as { Meter: new () => MeterT }
    const { parseOptions } = await import(new URL('../../dist/bench/cli/options.js', import.meta.url).href) as { parseOptions: typeof parseOptionsT }
    const out = join(dir, 'failed.json')
    const parsed = parseOptions(['--rate', '1', '--symbols', '40', '--systems', 'nats,naive', '--subs', '12', '--symbols-per-sub', '5', '--steps', '400',
      '--step-sec', '0.3', '--load-procs', '1', '--idle-conns', '0', '--p99-ms', '2000', '--json-out', out], saturation)
    if (!parsed.ok) throw new Error(parsed.error)
    const saved = process.env.NATS_SERVER_BIN
    process.env.NATS_SERVER_BIN = join(dir, 'no-such-nats-server')
    try {
      const target = { ws: 'ws://127.0.0.1:1/v1/stream', http: 'http://127.0.0.1:1', mqtt: null, credential: null, authMode: 'header' as const, embedded: true, feedPort: null }
      const r = await saturation.run({ target, options: parsed.values, durationSec: 1, warmupSec: 0, meter: new Meter(), share: { index: 0, count: 1 }, signal: new AbortController().signal, log: () => {} })
      expect(r.counts.failed).toBe(1)
      expect(r.notes?.join('\n')).toMatch(/nats \(round 1\) failed: nats-server not found/)
      const written = JSON.parse(readFileSync(out, 'utf8')) as SaturationResult
      expect(written.runs.map((x) => [x.system, x.status])).toEqual([['nats', 'failed'], ['naive', 'ok']])
      expect(written.runs[1].steps).toHaveLength(1)
      expect(written.summary.ratios.every((x) => x.ratio === null && x.bound === 'unknown')).toBe(true) // no tickcast run
    } finally {
      if (saved === undefined) delete process.env.NATS_SERVER_BIN; else process.env.NATS_SERVER_BIN = saved
    }
  })
})
