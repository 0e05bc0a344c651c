// Every bench scenario, run briefly against a real tickcast (with its simulator and MQTT broker): each produces a
// result that survives JSON, a Markdown summary with its metrics, and a self-contained HTML report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnReady, stop, stopAll } from '../lib/procs.js'
import { LiveLine } from './live.js'
import { allScenarios, findScenario } from './registry.js'
import { markdownSummary } from './report-md.js'
import { htmlReport } from './report-html.js'
import { buildResult, parseResult } from './result.js'
import type { ResultFile } from './result.js'
import { runLocal } from './runner.js'
import { parseOptions } from './options.js'
import type { Target } from './scenario.js'
import { startTarget } from './target.js'
import type { StartedTarget } from './target.js'
import { freePort } from '../lib/procs.js'

let started: StartedTarget
const quiet = new LiveLine({ tty: false, quiet: true, everySec: 1, out: process.stderr })

beforeAll(async () => {
  started = await startTarget({ authMode: 'header', feedRate: 5000, symbols: 100, serverArgs: '', mqttNeeded: true })
}, 30_000)
afterAll(async () => { await started?.stop(); await stopAll() })

/** Runs a scenario in this process with the CLI's option parsing, and builds its result file. */
async function runScenario(name: string, args: string[], target: Target = started.target): Promise<ResultFile> {
  const scenario = findScenario(name)!
  const parsed = parseOptions(['--duration', '1', '--warmup', '0', ...args], scenario)
  if (!parsed.ok) throw new Error(parsed.error)
  const run = await runLocal({ scenario, target, options: parsed.values, signal: new AbortController().signal, live: quiet, log: () => {} }, { index: 0, count: 1 })
  const r = buildResult({
    tool: 'tickcast-bench', schema: 1, scenario: name, startedAt: new Date().toISOString(), argv: [name, ...args], options: parsed.values,
    environment: { node: process.version, platform: 'test', cpuModel: 'test', cpus: 1, memoryGiB: 1, hostname: 'test', commit: 'test', server: null, target: 'embedded', embedded: target.embedded, procs: 1 },
    parts: 1,
  }, [run])
  return parseResult(JSON.stringify(r), name) // what is written is what is read back
}

function checkReports(r: ResultFile, metrics: string[]): void {
  for (const m of metrics) expect(r.metrics[m], `${r.scenario}: ${m} in ${JSON.stringify(r.metrics)}`).toBeTypeOf('number')
  const md = markdownSummary(r)
  expect(md).toContain(`# tickcast-bench ${r.scenario}`)
  expect(md).toMatch(/\| metric \| value \| noise ± \| what \|/)
  for (const m of metrics) expect(md).toContain(`| ${m} |`)
  const html = htmlReport(r)
  expect(html).toMatch(/^<!doctype html>/)
  expect(html).not.toMatch(/<script[^>]+src=/) // Chart.js is inlined, nothing is fetched
  expect(html).toContain('Chart.js v4') // the library itself is in the page
  expect(html).toContain('<canvas id="chart-throughput"')
}

describe('bench scenarios against a real server', () => {
  it('lists every scenario of the issue', () => {
    expect(allScenarios().map((s) => s.name)).toEqual(expect.arrayContaining(['fanout', 'latency', 'connect', 'snapshot', 'mqtt', 'soak', 'feed']))
  })

  it('fanout: delivered updates, sequence check, latency; msgpack and a ramp too', async () => {
    // the first run after the server's start: a longer warmup, so a busy machine still sees data in the window
    const json = await runScenario('fanout', ['--subs', '5', '--symbols-per-sub', '10', '--warmup', '1', '--duration', '1.5'])
    checkReports(json, ['updates', 'p50', 'p99', 'gaps', 'duplicates', 'slow_notices', 'connections'])
    expect(json.metrics.updates).toBeGreaterThan(0)
    expect(json.metrics.connections).toBe(5)
    expect(json.metrics.gaps).toBe(0)
    expect(json.metrics.duplicates).toBe(0)
    const mp = await runScenario('fanout', ['--subs', '3', '--subscribe', 'A*', '--format', 'msgpack', '--warmup', '0.5'])
    expect(mp.metrics.updates).toBeGreaterThan(0)
    expect(mp.metrics.gaps).toBe(0)
    const ramp = await runScenario('fanout', ['--ramp', '2:6:2', '--step-sec', '0.6', '--symbols-per-sub', '5'])
    expect(ramp.runs[0].ramp!.map((s) => s.subscribers)).toEqual([2, 4, 6])
    expect(htmlReport(ramp)).toContain('<canvas id="chart-ramp"')
  })

  it('latency: data age and ping round trips, with the clock note', async () => {
    const r = await runScenario('latency', ['--subs', '2', '--ping-ms', '50'])
    checkReports(r, ['p50', 'p99', 'ping_p50', 'ping_p99', 'updates'])
    expect(htmlReport(r)).toContain('<canvas id="chart-latency"')
  })

  it('connect: a small storm, connect time and time to first snapshot', async () => {
    const r = await runScenario('connect', ['--conns', '20', '--concurrency', '5'])
    checkReports(r, ['connects', 'p50', 'first_snapshot_p50', 'failed', 'connections'])
    expect(r.metrics.connections).toBe(20)
    expect(r.metrics.failed).toBe(0)
  })

  it('snapshot: autocannon requests with statuses', async () => {
    const r = await runScenario('snapshot', ['--connections', '4', '--symbol-count', '10', '--symbols-every', '5'])
    checkReports(r, ['requests', 'p50', 'p99', 'non2xx', 'status_200'])
    expect(r.metrics.requests).toBeGreaterThan(10)
    expect(r.metrics.non2xx).toBe(0)
  })

  it('mqtt: messages and the retained quote of every subscribed topic', async () => {
    const r = await runScenario('mqtt', ['--clients', '3', '--topics-per-client', '5'])
    checkReports(r, ['messages', 'retained_expected', 'retained_received', 'failed'])
    expect(r.metrics.failed).toBe(0)
    expect(r.metrics.retained_received).toBeGreaterThan(0)
  })

  it('soak: drift of the scraped server series', async () => {
    const r = await runScenario('soak', ['--subs', '3', '--scrape-sec', '0.25', '--duration', '1.5'])
    checkReports(r, ['updates', 'server_rss_drift_mib', 'server_rss_start_mib', 'client_p99_drift_ms'])
    expect(htmlReport(r)).toContain('<canvas id="chart-series-0"')
  })

  it('feed: serves the simulator to a server pointed at its port, measures it end to end', async () => {
    const port = await freePort()
    // the deployment first: its feed (the scenario's simulator) is not up yet, it keeps reconnecting until it is
    const { child, match } = await spawnReady('node', ['dist/src/main.js', '--port', '0', '--mqtt-url', 'none', '--log-level', 'error', '--feed-heartbeat-ms', '200',
      '--feed', `sim=native:tcp://127.0.0.1:${port}`], /MQTT\s+(\S+)/) // the banner's last line
    try {
      const ws = /WebSocket\s+(ws:\/\/\S+)/.exec(match.input)![1]
      const remote: Target = { ws, http: ws.replace('ws://', 'http://').replace('/v1/stream', ''), metrics: /Metrics\s+(http:\/\/\S+)/.exec(match.input)?.[1] ?? null, mqtt: null, credential: null, authMode: 'header', embedded: false, feedPort: null }
      const r = await runScenario('feed', ['--feed-port', String(port), '--rate', '2000', '--symbols', '50', '--wait-sec', '20', '--duration', '1.5'], remote)
      checkReports(r, ['offered', 'ingested', 'updates', 'p99'])
      expect(r.metrics.offered).toBeGreaterThan(500)
      expect(r.metrics.ingested).toBeGreaterThan(500)
      expect(r.metrics.updates).toBeGreaterThan(500)
    } finally { await stop(child) }
  })
})
