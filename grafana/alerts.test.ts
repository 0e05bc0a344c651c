// The alert and recording rules as a contract: promtool accepts and unit-tests them, every alert carries a summary,
// severity and runbook anchor, and a real Prometheus scraping a real tickcast fires one when its feed stops.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startSimulator } from '../feeds/sim/simulator.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { startTickcast } from '../src/server.js'
import type { Tickcast } from '../src/server.js'
import { binaryAvailable, PROMETHEUS_BIN, PROMTOOL_BIN, startPrometheus } from '../test-support/prometheus.js'
import type { Prometheus } from '../test-support/prometheus.js'
import { sleep, waitFor } from '../test-support/wait-for.js'

const DIR = join(import.meta.dirname, 'alerts')
const RULES = join(DIR, 'tickcast-rules.yml')
const rulesText = readFileSync(RULES, 'utf8')
const runbook = readFileSync(join(import.meta.dirname, 'RUNBOOK.md'), 'utf8')

/** Each `- alert:` block of the rules file, as text (the file is hand-written YAML in one fixed layout). */
const alertBlocks = rulesText.split(/\n(?= {6}- (?:alert|record): )/).filter((b) => b.trimStart().startsWith('- alert:'))
  .map((b) => ({ name: /- alert: (\w+)/.exec(b)![1], text: b }))

const havePromtool = await binaryAvailable(PROMTOOL_BIN)
const haveProm = await binaryAvailable(PROMETHEUS_BIN)
if (!havePromtool || !haveProm) console.warn('\n!!! promtool/prometheus not found: alert rule tests SKIPPED (install Debian \'prometheus\'; CI never skips)\n')

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(250)
  }
}

function promtool(...args: string[]): { code: number; out: string } {
  const r = spawnSync(PROMTOOL_BIN, args, { cwd: DIR, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

describe('alert and recording rules', () => {
  it('fails in CI when promtool or prometheus is missing', () => {
    if (process.env.CI) expect(havePromtool && haveProm, 'prometheus is required in CI (installed by .ci/run)').toBe(true)
  })

  it.runIf(havePromtool)('pass `promtool check rules`', () => {
    const r = promtool('check', 'rules', 'tickcast-rules.yml')
    expect(r.out).toContain('SUCCESS')
    expect(r.code).toBe(0)
  })

  it.runIf(havePromtool)('pass their unit tests (`promtool test rules`, series in tickcast-rules.test.yml)', () => {
    const r = promtool('test', 'rules', 'tickcast-rules.test.yml')
    expect(r.out).toContain('SUCCESS')
    expect(r.code).toBe(0)
  })

  it('every alert has a severity, a summary, a description and a runbook anchor that exists', () => {
    const anchors = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => m[1].toLowerCase()))
    expect(alertBlocks.map((a) => a.name)).toEqual(expect.arrayContaining([
      'TickcastInstanceDown', 'TickcastRestarting', 'TickcastFeedDisconnected', 'TickcastFeedStale', 'TickcastFeedGaps',
      'TickcastRingLapped', 'TickcastSlowConsumerCloses', 'TickcastDataAgeHigh', 'TickcastMqttDisconnected',
      'TickcastMqttBacklogged', 'TickcastEventLoopSaturated',
    ]))
    for (const { name, text } of alertBlocks) {
      expect(text, name).toMatch(/labels: \{severity: (critical|warning)\}/)
      expect(text, name).toMatch(/summary: \S/)
      expect(text, name).toMatch(/description: \S/)
      const url = /runbook_url: "[^"#]*RUNBOOK\.md#(\w+)"/.exec(text)
      expect(url?.[1], name).toBe(name.toLowerCase())
      expect(anchors.has(name.toLowerCase()), `${name}: no "## ${name}" in grafana/RUNBOOK.md`).toBe(true)
    }
  })

  it('every runbook section is a real paragraph, and every runbook_url one absolute URL base, no placeholder', () => {
    const sections = new Map([...runbook.matchAll(/^## (\w+)\n([\s\S]*?)(?=^## |(?![\s\S]))/gm)].map((m) => [m[1], m[2].trim()]))
    const bases = new Set<string>()
    for (const { name, text } of alertBlocks) {
      const body = sections.get(name) ?? ''
      // what to check and what to do: at least two sentences, not a stub
      expect(body.length, `${name}: runbook paragraph`).toBeGreaterThan(150)
      expect(body.split(/\.\s/).length, `${name}: runbook paragraph`).toBeGreaterThanOrEqual(2)
      const url = /runbook_url: "([^"]+)"/.exec(text)![1]
      expect(url, name).toMatch(/^https:\/\/[a-z0-9.-]+\.[a-z]{2,}\/\S+\/grafana\/RUNBOOK\.md#\w+$/)
      expect(url, name).not.toMatch(/example\.(com|org)|localhost|TODO|CHANGEME|your-|<|\{\{/i)
      bases.add(url.slice(0, url.indexOf('#')))
    }
    expect([...bases], 'one runbook document').toHaveLength(1)
    // ... in this repository as package.json names it (repository, homepage, bugs: what npm and users follow)
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      repository?: { type?: string; url?: string }; homepage?: string; bugs?: { url?: string }
    }
    const repo = /^git\+(https:\/\/github\.com\/[\w.-]+\/[\w.-]+)\.git$/.exec(pkg.repository?.url ?? '')?.[1]
    expect(repo, 'package.json repository.url as git+https://github.com/OWNER/NAME.git').toBeDefined()
    expect(pkg.repository?.type).toBe('git')
    expect(pkg.homepage).toBe(`${repo}#readme`)
    expect(pkg.bugs?.url).toBe(`${repo}/issues`)
    expect([...bases][0]).toBe(`${repo}/blob/main/grafana/RUNBOOK.md`)
    // and every runbook link the repository ships (rules, their unit tests, manifests, docs) is that document plus an anchor it has
    const anchors = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => m[1].toLowerCase()))
    const shipped = ['grafana/alerts/tickcast-rules.yml', 'grafana/alerts/tickcast-rules.test.yml', 'grafana/README.md', 'k8s/tickcast.yaml', 'docs/deployment.md', 'README.md']
    let links = 0
    for (const file of shipped) {
      for (const m of readFileSync(join(import.meta.dirname, '..', file), 'utf8').matchAll(/https:\/\/[^\s"')]*RUNBOOK\.md(#[^\s"')]*)?/g)) {
        links++
        expect(m[0].slice(0, m[0].indexOf('#') < 0 ? undefined : m[0].indexOf('#')), `${file}: ${m[0]}`).toBe(`${repo}/blob/main/grafana/RUNBOOK.md`)
        if (m[1] !== undefined) expect(anchors.has(m[1].slice(1)), `${file}: ${m[0]}: no such section in grafana/RUNBOOK.md`).toBe(true)
      }
    }
    expect(links).toBeGreaterThanOrEqual(2 * alertBlocks.length)
    expect(sections.size, 'a section per alert, no orphans').toBe(alertBlocks.length)
  })

  it('are loaded by the compose Prometheus (prometheus.yml rule_files, mounted next to it)', () => {
    expect(readFileSync(join(import.meta.dirname, 'prometheus.yml'), 'utf8')).toMatch(/rule_files:\n\s+- alerts\/tickcast-rules\.yml/)
    expect(readFileSync(join(import.meta.dirname, 'docker-compose.yml'), 'utf8')).toContain('./alerts:/etc/prometheus/alerts:ro')
  })
})

describe('alerts on a real Prometheus scraping a real tickcast', () => {
  const cleanup: Array<() => Promise<unknown> | void> = []
  afterAll(async () => { for (const c of cleanup.splice(0).reverse()) await c() })

  it.runIf(haveProm)('TickcastFeedDisconnected stays quiet while the feed runs and fires once its upstream stops', async () => {
    const sim = await startSimulator({ port: 0, rate: 500, symbols: 20, seed: 3, directoryEverySec: 0 })
    let simStopped = false
    cleanup.push(() => simStopped ? undefined : sim.stop(0))
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--feed', `up=native:tcp://127.0.0.1:${sim.port}`], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t: Tickcast = await startTickcast(cli.config, createLogger('silent'), { processMetrics: true })
    cleanup.push(() => t.stop())
    await waitFor(() => t.feeds[0].stats.loggedIn === 1, 10_000, 'feed logged in')

    // the shipped rules with every `for:` cut to 2 s, so the test waits seconds, not minutes
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-rules-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const fast = join(dir, 'rules.yml')
    writeFileSync(fast, rulesText.replace(/for: \d+m/g, 'for: 2s'))
    const prom: Prometheus = await startPrometheus({ targets: [`127.0.0.1:${t.metricsPort}`], scrapeIntervalSec: 1, ruleFiles: [fast] })
    cleanup.push(() => prom.stop())
    await prom.waitForUp()
    const feedAlerts = async (): Promise<string[]> =>
      (await prom.alerts()).filter((a) => a.labels.alertname === 'TickcastFeedDisconnected').map((a) => a.state)
    // rules evaluate every second: after a few evaluations with the feed up, nothing is pending or firing
    await until(async () => (await prom.query('count_over_time(up{job="tickcast"}[10s]) >= 4')).result.length === 1, 15_000, 'four scrapes')
    expect(await feedAlerts()).toEqual([])

    await sim.stop(0); simStopped = true
    await until(async () => (await feedAlerts()).includes('firing'), 20_000, 'TickcastFeedDisconnected firing')
    const firing = (await prom.alerts()).find((a) => a.labels.alertname === 'TickcastFeedDisconnected' && a.state === 'firing')!
    expect(firing.labels).toMatchObject({ feed: 'up', severity: 'critical', job: 'tickcast' })
    expect(firing.annotations.summary).toBe(`feed up on 127.0.0.1:${t.metricsPort} is not logged in`)
    expect(firing.annotations.runbook_url).toMatch(/RUNBOOK\.md#tickcastfeeddisconnected$/)
  }, 60_000)
})
