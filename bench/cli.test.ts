// The tickcast-bench command as a user runs it (node dist/bench/cli.js) against a real server: help at every level,
// thresholds that gate (exit 99 / 0), --compare, merge, and the HTML report drawn by a real Chromium.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scenarioHelp } from './cli/options.js'
import { chromiumPath } from './cli/png.js'
import { allScenarios } from './cli/registry.js'
import { parseResult } from './cli/result.js'
import { startTarget } from './cli/target.js'
import type { StartedTarget } from './cli/target.js'
import { stopAll } from './lib/procs.js'

const executablePath = chromiumPath()
if (executablePath === null && process.env.CI) throw new Error('chromium is required in CI (installed by .ci/run)')

let started: StartedTarget
const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-test-'))
beforeAll(async () => { started = await startTarget({ authMode: 'header', feedRate: 5000, symbols: 100, serverArgs: '', mqttNeeded: false }) }, 30_000)
afterAll(async () => { await started?.stop(); await stopAll(); rmSync(dir, { recursive: true, force: true }) })

function cli(args: string[], timeoutMs = 25_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['dist/bench/cli.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    p.stdout.on('data', (d: Buffer) => { out += String(d) })
    p.stderr.on('data', (d: Buffer) => { err += String(d) })
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }) })
  })
}
/** a short latency run against the test's server */
const latencyRun = (out: string, extra: string[] = []): ReturnType<typeof cli> =>
  cli(['latency', '--url', started.target.ws, '--metrics', started.target.metrics!, '--subs', '2', '--symbols-per-sub', '5', '--duration', '1', '--warmup', '0', '--out', join(dir, out), ...extra])

describe('tickcast-bench', () => {
  it('answers --help at every level and never throws; a usage mistake exits 2 with a hint', async () => {
    const runs = await Promise.all([
      cli(['--help']), cli([]), cli(['merge', '--help']), cli(['fanout', '--bogus', '--help']), cli(['snapshot', '--help']), cli(['nope']), cli(['fanout', '--subs', 'many']),
    ])
    const [top, bare, merge, withBogus, scen, unknown, badValue] = runs
    for (const r of [top, bare]) { expect(r.code).toBe(0); expect(r.out).toContain('Usage: tickcast-bench <scenario>'); for (const s of allScenarios()) expect(r.out).toContain(`  ${s.name} `) }
    expect(merge.code).toBe(0); expect(merge.out).toContain('Usage: tickcast-bench merge')
    expect(withBogus.code).toBe(0); expect(withBogus.out).toContain('Options of fanout:')
    expect(scen.code).toBe(0); expect(scen.out).toContain('Usage: tickcast-bench snapshot [options]'); expect(scen.err).toBe('')
    for (const s of allScenarios()) expect(scenarioHelp(s)).toContain(`Options of ${s.name}:`) // the same text every scenario's --help prints
    expect(unknown.code).toBe(2); expect(unknown.err).toMatch(/unknown scenario 'nope'/); expect(unknown.err).not.toMatch(/\n\s+at /)
    expect(badValue.code).toBe(2); expect(badValue.err).toMatch(/--subs: expected a number/)
  }, 30_000)

  it('exits 0 when every threshold is met and 99 when one is violated; writes JSON, Markdown and HTML', async () => {
    const [met, violated] = await Promise.all([
      latencyRun('met', ['--threshold', 'errors==0', '--threshold', 'updates>1', '--threshold', 'p99<3600s']),
      latencyRun('violated', ['--threshold', 'updates>1e12', '--threshold', 'errors==0']),
    ])
    expect(met.code, met.err).toBe(0)
    expect(met.out).toMatch(/ok {3}errors==0/)
    expect(violated.code, violated.err).toBe(99)
    expect(violated.out).toMatch(/FAIL updates>1e12: updates = \d/)
    for (const d of ['met', 'violated']) {
      const r = parseResult(readFileSync(join(dir, d, 'result.json'), 'utf8'), d)
      expect(r.environment.server?.version).toBe('0.1.0') // from tickcast_build_info
      expect(r.environment.node).toBe(process.version)
      expect(readFileSync(join(dir, d, 'summary.md'), 'utf8')).toContain('| p99 |')
      expect(readFileSync(join(dir, d, 'report.html'), 'utf8')).toContain('<canvas id="chart-latency"')
    }
  }, 30_000)

  it('--compare prints ratios with the noise band of repeated runs; merge adds two files up', async () => {
    const base = await latencyRun('base', ['--repeat', '2'])
    expect(base.code, base.err).toBe(0)
    const cmp = await latencyRun('cmp', ['--compare', join(dir, 'base', 'result.json')])
    expect(cmp.code, cmp.err).toBe(0)
    expect(cmp.out).toMatch(/compared with .*base\/result\.json/)
    expect(cmp.out).toMatch(/^\s+updates\s+[\d,.]+\s+[\d,.]+\s+×\d+\.\d\d\s+\d+\.\d%\s+(better|worse|within noise)$/m)
    const merged = await cli(['merge', join(dir, 'met', 'result.json'), join(dir, 'violated', 'result.json'), '--out', join(dir, 'merged')])
    expect(merged.code, merged.err).toBe(0)
    const m = parseResult(readFileSync(join(dir, 'merged', 'result.json'), 'utf8'), 'merged')
    const a = parseResult(readFileSync(join(dir, 'met', 'result.json'), 'utf8'), 'a')
    const b = parseResult(readFileSync(join(dir, 'violated', 'result.json'), 'utf8'), 'b')
    expect(m.parts).toBe(2)
    expect(m.metrics.connections).toBe(a.metrics.connections + b.metrics.connections)
    expect(m.metrics.samples).toBe(a.metrics.samples + b.metrics.samples) // histograms merged, not averaged
    expect(existsSync(join(dir, 'merged', 'report.html'))).toBe(true)
  }, 30_000)

  it.skipIf(executablePath === null)('the HTML report, opened in Chromium, draws every chart (non-blank canvases); --png writes them', async () => {
    const run = await cli(['fanout', '--url', started.target.ws, '--ramp', '2:4:2', '--step-sec', '1', '--symbols-per-sub', '5', '--warmup', '0', '--out', join(dir, 'html'), '--png'], 40_000)
    expect(run.code, run.err).toBe(0)
    for (const name of ['latency', 'throughput', 'connections', 'ramp']) expect(statSync(join(dir, 'html', `${name}.png`)).size, name).toBeGreaterThan(5000)
    const browser = await chromium.launch({ executablePath: executablePath!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    try {
      const page = await browser.newPage()
      await page.goto(`file://${join(dir, 'html', 'report.html')}`)
      await page.waitForFunction(() => typeof (window as unknown as { __chartsDrawn?: number }).__chartsDrawn === 'number', undefined, { timeout: 10_000 })
      // per canvas: pixels that are neither transparent nor white (lines, axes, labels)
      const inked = await page.evaluate(() => Array.from(document.querySelectorAll('canvas')).map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
        let n = 0
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++
        return { id: c.id, n }
      }))
      expect(inked.map((x) => x.id)).toEqual(['chart-latency', 'chart-throughput', 'chart-connections', 'chart-ramp'])
      for (const x of inked) expect(x.n, x.id).toBeGreaterThan(2000)
      const shot = await page.locator('#box-ramp').screenshot()
      expect(shot.length).toBeGreaterThan(5000)
    } finally { await browser.close() }
  }, 45_000)
})
