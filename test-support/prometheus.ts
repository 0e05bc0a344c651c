// Owns a real Debian `prometheus` for tests (loopback, free port, temp config and TSDB, 1 s scrapes) and `promtool`.
// Must never leave a process, a port or a temp dir behind: stop() frees everything, and a process exit kills it.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, killOnExit } from './processes.js'

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus'
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? 'promtool'
const READY_TIMEOUT_MS = 10_000
/** A fresh Prometheus waits ~5.5 s (service-discovery throttle) before its first scrape: allow three times that. */
export const FIRST_SCRAPE_TIMEOUT_MS = 20_000
const EXIT_TIMEOUT_MS = 5000

export interface PromSample { metric: Record<string, string>; value: [number, string] }
export interface PromAlert { labels: Record<string, string>; annotations: Record<string, string>; state: 'pending' | 'firing' | 'inactive' }
export interface PromQueryResult { status: string; error?: string; resultType: string; result: PromSample[] }

export interface Prometheus {
  /** http://127.0.0.1:<port> */
  readonly url: string
  readonly port: number
  readonly job: string
  /** temp dir holding the config and the TSDB (removed by stop) */
  readonly dir: string
  /** Alerts as /api/v1/alerts lists them (pending and firing). */
  alerts(): Promise<PromAlert[]>
  /** An instant query through /api/v1/query; resolves with the API's status, error and vector/scalar result. */
  query(promql: string): Promise<PromQueryResult>
  /** Resolves once every target has been scraped successfully (`up == 1` for each). */
  waitForUp(timeoutMs?: number): Promise<void>
  /** stderr so far (for failure messages) */
  log(): string
  /** Idempotent: kills Prometheus, waits for its exit, removes the config and TSDB dir. */
  stop(): Promise<void>
}

export interface PrometheusOptions {
  /** host:port of each scrape target (metrics at /metrics) */
  targets: string[]
  job?: string
  scrapeIntervalSec?: number
  /** rule files (absolute paths) loaded with `rule_files:`; evaluated every scrape interval */
  ruleFiles?: string[]
}


/** True when `bin --version` runs here (tests say so loudly, and fail in CI, when it cannot). */
export function binaryAvailable(bin: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(bin, ['--version'], { stdio: 'ignore' })
    p.once('error', () => resolve(false))
    p.once('exit', (code) => resolve(code === 0))
  })
}

/** Pipes an exposition body to `promtool check metrics`; exit 0 = clean, 3 = lint problems (listed in output). */
export function promtoolCheckMetrics(body: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PROMTOOL_BIN, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('promtool check metrics timed out')) }, 10_000)
    p.stdout.setEncoding('utf8'); p.stderr.setEncoding('utf8')
    p.stdout.on('data', (d: string) => { output += d })
    p.stderr.on('data', (d: string) => { output += d })
    p.once('error', (e) => { clearTimeout(timer); reject(e) })
    p.once('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, output }) })
    p.stdin.end(body)
  })
}

export async function startPrometheus(opts: PrometheusOptions): Promise<Prometheus> {
  const job = opts.job ?? 'tickcast'
  const interval = `${opts.scrapeIntervalSec ?? 1}s`
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-prometheus-'))
  const conf = join(dir, 'prometheus.yml')
  writeFileSync(conf, [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(opts.ruleFiles ? ['rule_files:', ...opts.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    `  - job_name: ${job}`,
    `    scrape_interval: ${interval}`,
    `    scrape_timeout: ${interval}`,
    '    static_configs:',
    `      - targets: [${opts.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n'))

  const url = `http://127.0.0.1:${port}`
  let stderr = ''
  const p = spawn(PROMETHEUS_BIN, [
    `--config.file=${conf}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  killOnExit(p)
  let exited = false
  p.stderr?.setEncoding('utf8')
  p.stderr?.on('data', (d: string) => { if (stderr.length < 64 * 1024) stderr += d })
  p.once('exit', () => { exited = true })
  p.once('error', (err) => { stderr += String(err) })

  let stopped = false
  async function stop(): Promise<void> {
    if (stopped) return
    stopped = true
    if (!exited) {
      const gone = new Promise<void>((resolve) => {
        const t = setTimeout(resolve, EXIT_TIMEOUT_MS)
        p.once('exit', () => { clearTimeout(t); resolve() })
      })
      p.kill('SIGKILL') // nothing in the temp TSDB is worth a graceful shutdown
      await gone
    }
    
    rmSync(dir, { recursive: true, force: true })
  }

  async function query(promql: string): Promise<PromQueryResult> {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) })
    const j = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } }
    const data = j.data ?? { resultType: 'none', result: [] }
    // A scalar comes back as [ts, "v"]: wrap it so every caller sees a list of samples.
    const result = data.resultType === 'scalar' ? [{ metric: {}, value: data.result as [number, string] }] : (data.result as PromSample[])
    return { status: j.status, error: j.error, resultType: data.resultType, result }
  }

  async function alerts(): Promise<PromAlert[]> {
    const res = await fetch(`${url}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) })
    return ((await res.json()) as { data: { alerts: PromAlert[] } }).data.alerts
  }

  const deadline = Date.now() + READY_TIMEOUT_MS
  try {
    for (;;) {
      if (exited) throw new Error(`prometheus exited before it was ready: ${stderr}`)
      const ok = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)
      if (ok) break
      if (Date.now() > deadline) throw new Error(`prometheus not ready on ${url} after ${READY_TIMEOUT_MS} ms: ${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  } catch (e) {
    await stop()
    throw e
  }

  return {
    url, port, job, dir, query, alerts, stop,
    log: () => stderr,
    async waitForUp(timeoutMs = FIRST_SCRAPE_TIMEOUT_MS) {
      const end = Date.now() + timeoutMs
      let last = ''
      for (;;) {
        const r = await query(`up{job="${job}"} == 1`).catch((e: Error) => ({ status: 'error', error: e.message, resultType: '', result: [] }))
        if (r.status === 'success' && r.result.length === opts.targets.length) return
        last = JSON.stringify(r)
        if (Date.now() > end) throw new Error(`targets not up after ${timeoutMs} ms (last: ${last}): ${stderr}`)
        await new Promise((res) => setTimeout(res, 200))
      }
    },
  }
}
