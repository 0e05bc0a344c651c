// The image built from grafana/Dockerfile by a real engine (podman/buildah on runc) and run the way k8s/tickcast.yaml runs
// it: probes, page, client modules, AsyncAPI, a WebSocket subscription, non-root, one uWS binary, drain and exit 0.
// Must never run inside `npm test` (minutes, needs root and podman): `npm run test:container` only.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { binaryAvailable, PROMETHEUS_BIN, startPrometheus } from '../test-support/prometheus.js'
import type { Prometheus } from '../test-support/prometheus.js'
import { available, must, PODMAN, run, ULIMITS } from './podman.js'

const yaml = createRequire(import.meta.url)('js-yaml') as { loadAll(s: string): unknown[] }
const ROOT = join(import.meta.dirname, '..')
const IMAGE = 'localhost/tickcast:container-test'
const NAME = `tickcast-container-test-${process.pid}`
const MIN = 60_000

type Obj = Record<string, unknown>
interface Container { args: string[]; env: Array<{ name: string }>; securityContext: Obj; ports: Array<{ name: string; containerPort: number }> }
const docs = yaml.loadAll(readFileSync(join(ROOT, 'k8s/tickcast.yaml'), 'utf8')) as Obj[]
const podSpec = ((docs.find((d) => d.kind === 'Deployment')!.spec as Obj).template as Obj).spec as {
  containers: Container[]; terminationGracePeriodSeconds: number; securityContext: { runAsUser: number }
}
const k8s = podSpec.containers[0]
const flag = (name: string): string => k8s.args[k8s.args.indexOf(name) + 1]
// The Deployment's own arguments, but MQTT to the embedded broker: no mosquitto image can be pulled here.
const args = k8s.args.map((a, i) => (k8s.args[i - 1] === '--mqtt-url' ? '' : a))
const drainMs = Number(flag('--drain-ms'))
const SHUTDOWN_DEADLINE_MS = 2000 // --shutdown-deadline-ms default

const skip = !available() && !process.env.CI
let base = '', port = 0, metricsPort = 0
let prom: Prometheus | null = null
const promDir = mkdtempSync(join(tmpdir(), 'tickcast-container-rules-'))
const timings: Record<string, number> = {}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
    s.once('error', reject)
  })
}
const get = (path: string, p = port): Promise<Response> => fetch(`http://127.0.0.1:${p}${path}`, { signal: AbortSignal.timeout(3000) })
const status = (path: string): Promise<number> => get(path).then((r) => r.status, () => 0)
async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
const exec = (cmd: string): Promise<string> => must(['exec', NAME, 'sh', '-c', cmd], 20_000).then((r) => r.out.trim())

describe.skipIf(skip)('the tickcast image (grafana/Dockerfile) under podman', () => {
  beforeAll(async () => {
    if (!available()) throw new Error('podman and mmdebstrap are required: apt-get install podman buildah runc mmdebstrap')
    const b = await must([join(ROOT, 'docker/base-image.sh')], 10 * MIN, ['bash'])
    base = b.out.trim().split('\n').pop()!
    timings.baseMs = b.ms
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    // --format docker keeps HEALTHCHECK (OCI has none); --layers=false leaves no intermediate images behind
    const build = await must(['build', '--format', 'docker', '--layers=false', ...ULIMITS, '-f', 'grafana/Dockerfile', '--ignorefile', 'grafana/Dockerfile.dockerignore',
      '--build-arg', `NODE_IMAGE=${base}`, '--build-arg', `TICKCAST_COMMIT=${commit}`, '-t', IMAGE, '.'], 12 * MIN, PODMAN, ROOT)
    timings.buildMs = build.ms
    port = await freePort()
    metricsPort = await freePort()
    const containerPort = (name: string): number => k8s.ports.find((p) => p.name === name)!.containerPort
    // The Deployment's pod: its securityContext (read-only root without podman's /tmp tmpfs, no capabilities, no
    // privilege escalation) and its env; slirp4netns, so the published port is a loopback listener on this host.
    const sc = k8s.securityContext as { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } }
    await must(['run', '-d', '--name', NAME, ...ULIMITS, '--network', 'slirp4netns', '-p', `127.0.0.1:${port}:${containerPort('http')}`,
      '-p', `127.0.0.1:${metricsPort}:${containerPort('metrics')}`,
      ...(sc.readOnlyRootFilesystem ? ['--read-only', '--read-only-tmpfs=false'] : []),
      ...sc.capabilities.drop.map((c) => `--cap-drop=${c}`),
      ...(sc.allowPrivilegeEscalation ? [] : ['--security-opt=no-new-privileges']),
      ...k8s.env.map((e) => `--env=${e.name}=${NAME}`),
      IMAGE, ...args], MIN)
    const t0 = Date.now()
    await until(async () => (await status('/readyz')) === 200, 30_000, '/readyz 200 from the container')
    timings.readyMs = Date.now() - t0
  }, 25 * MIN)

  afterAll(async () => {
    await prom?.stop()
    rmSync(promDir, { recursive: true, force: true })
    const logs = await run(['logs', '--tail', '20', NAME], 20_000)
    if (logs.code === 0) process.stdout.write(`container log (tail):\n${logs.out}${logs.err}\n`)
    await run(['rm', '-f', '-t', '0', NAME], 30_000)
    await run(['rmi', IMAGE], 30_000)
    process.stdout.write(`container test timings: ${JSON.stringify(timings)}\n`)
  }, MIN)

  it('has the shape the files promise: Node 22, user node (uid = the Deployment runAsUser), HEALTHCHECK, SIGTERM, port', async () => {
    const [img] = JSON.parse((await must(['image', 'inspect', IMAGE], 20_000)).out) as Array<{ Config: Obj; Healthcheck?: { Test: string[] }; Size: number }>
    expect(img.Config.User).toBe('node')
    expect(img.Config.StopSignal).toBe('SIGTERM')
    expect(Object.keys(img.Config.ExposedPorts as Obj).sort()).toEqual(k8s.ports.map((p) => `${p.containerPort}/tcp`).sort())
    expect(img.Healthcheck?.Test.join(' ')).toContain('/healthz')
    expect(await exec('node --version')).toMatch(/^v22\./)
    expect(await exec('id -u')).toBe(String(podSpec.securityContext.runAsUser))
    expect(await exec('id -u')).not.toBe('0')
    const [b] = JSON.parse((await must(['image', 'inspect', base], 20_000)).out) as Array<{ Size: number }>
    const appMb = (img.Size - b.Size) / 2 ** 20
    process.stdout.write(`image ${(img.Size / 2 ** 20).toFixed(1)} MiB = base ${(b.Size / 2 ** 20).toFixed(1)} MiB + tickcast ${appMb.toFixed(1)} MiB\n`)
    expect(appMb).toBeLessThan(60)
  })

  it('holds production modules only, with exactly one uWS binary: linux-x64 for the running Node ABI', async () => {
    const abi = await exec("node -p 'process.versions.modules'")
    expect(abi).toBe('127')
    expect((await exec('ls node_modules/uWebSockets.js/dist/bin')).split('\n')).toEqual([`uws_linux_x64_${abi}.node`])
    expect(await exec("find / -xdev -name 'uws_*.node' 2>/dev/null || true")).toBe(`/app/node_modules/uWebSockets.js/dist/bin/uws_linux_x64_${abi}.node`)
    // dev dependencies and the bench-only ones the Dockerfile deletes before pruning are absent; the server's are there
    const benchOnly = [...readFileSync(join(ROOT, 'grafana/Dockerfile'), 'utf8').matchAll(/'dependencies\[([^\]]+)\]'/g)].map((m) => m[1])
    expect(benchOnly.length).toBeGreaterThan(0)
    for (const d of ['typescript', 'vitest', 'eslint', ...benchOnly]) expect(await exec(`test -e node_modules/${d} && echo present || echo absent`), d).toBe('absent')
    for (const d of ['uWebSockets.js', 'pino', 'prom-client', 'aedes']) expect(await exec(`test -e node_modules/${d} && echo present || echo absent`), d).toBe('present')
    expect(await exec("find /app -path /app/node_modules -prune -o -name '*.ts' -print | head -1")).toBe('') // compiled only
    const mb = Number(await exec('du -sm node_modules | cut -f1'))
    process.stdout.write(`runtime node_modules ${mb} MiB\n`)
    expect(mb).toBeLessThan(40)
  })

  it('the image HEALTHCHECK and the compose health check pass inside the container; the probes answer 200', async () => {
    expect((await run(['healthcheck', 'run', NAME], 20_000)).code).toBe(0)
    const compose = (yaml.loadAll(readFileSync(join(ROOT, 'grafana/docker-compose.yml'), 'utf8'))[0] as { services: { tickcast: { healthcheck: { test: string[] } } } })
    const [kind, ...cmd] = compose.services.tickcast.healthcheck.test
    expect(kind).toBe('CMD')
    expect((await run(['exec', NAME, ...cmd], 20_000)).code).toBe(0)
    expect(await status('/healthz')).toBe(200)
    expect(await status('/readyz')).toBe(200)
  })

  it('serves the page and every module it loads, /client.js, /asyncapi.json; /metrics (this commit) on the annotated port', async () => {
    const page = await get('/')
    expect(page.status).toBe(200)
    // crawl the page's scripts and links, then every relative import of every module: the whole client must be in the image
    const seen = new Set<string>(), queue = [...(await page.text()).matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1])
    expect(queue).toContain('/asyncapi.json')
    while (queue.length > 0) {
      const path = queue.shift()!
      if (seen.has(path)) continue
      seen.add(path)
      const r = await get(path)
      expect(r.status, path).toBe(200)
      if (!path.endsWith('.js')) continue
      for (const m of (await r.text()).matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) queue.push(new URL(m[1], `http://x${path}`).pathname)
    }
    expect(seen.size).toBeGreaterThan(4)
    const api = await (await get('/asyncapi.json')).json() as { asyncapi: string }
    expect(api.asyncapi).toMatch(/^3\./)
    // the scrape annotation's port (published as metricsPort) serves /metrics; the client port does not
    expect(Number(((docs.find((d) => d.kind === 'Deployment')!.spec as Obj).template as { metadata: { annotations: Obj } }).metadata.annotations['prometheus.io/port']))
      .toBe(k8s.ports.find((p) => p.name === 'metrics')!.containerPort)
    expect(await status('/metrics')).toBe(404)
    const m = await get('/metrics', metricsPort)
    expect(m.status).toBe(200)
    const metrics = await m.text()
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim().slice(0, 12)
    expect(metrics).toMatch(new RegExp(`tickcast_build_info\\{[^}]*commit="${commit}"`))
    expect(metrics).toMatch(/tickcast_build_info\{[^}]*node="v?22\./)
  })

  it('a WebSocket client subscribing through the published port receives quotes', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?format=json`)
    try {
      const events: Obj[] = []
      ws.on('message', (d: Buffer) => { const m = JSON.parse(d.toString()) as Obj | Obj[]; if (Array.isArray(m)) events.push(...m) })
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
      ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], snapshot: false }))
      await until(async () => events.some((e) => e.e === 'q'), 10_000, 'a quote over the WebSocket')
    } finally {
      ws.terminate()
    }
  })

  // The operator's path past the container (README: compose, or the manifests' scrape annotations): a real Prometheus
  // scrapes the image's metrics port with the shipped alert rules, as grafana/prometheus.yml loads them. No Prometheus
  // image can be pulled here, so it is Debian's binary on this host; the rules' `for:` are cut to 2 s (seconds, not minutes).
  it('a real Prometheus with the shipped rules scrapes the container on its metrics port, and no up/down alert fires while it runs', async () => {
    if (!(await binaryAvailable(PROMETHEUS_BIN))) throw new Error('prometheus is required: apt-get install prometheus')
    const rules = readFileSync(join(ROOT, 'grafana/alerts/tickcast-rules.yml'), 'utf8').replace(/for: \d+m/g, 'for: 2s')
    writeFileSync(join(promDir, 'tickcast-rules.yml'), rules)
    prom = await startPrometheus({ targets: [`127.0.0.1:${metricsPort}`], scrapeIntervalSec: 1, ruleFiles: [join(promDir, 'tickcast-rules.yml')] })
    await prom.waitForUp()
    await until(async () => (await prom!.query('count_over_time(up{job="tickcast"}[10s]) >= 4')).result.length === 1, 15_000, 'four scrapes')
    const info = await prom.query('tickcast_build_info')
    expect(info.result).toHaveLength(1)
    // (load-dependent ones such as event-loop saturation may fire on a shared machine: only those about being up are asked)
    const upAlerts = ['TickcastInstanceDown', 'TickcastFeedDisconnected', 'TickcastMqttDisconnected']
    expect((await prom.alerts()).filter((a) => upAlerts.includes(a.labels.alertname)).map((a) => `${a.labels.alertname} ${a.state}`)).toEqual([])
  }, 60_000)

  it('on stop: /readyz 503 while everything serves for --drain-ms, then exit 0 within the grace period', async () => {
    const t0 = Date.now()
    const stop = run(['stop', '-t', String(podSpec.terminationGracePeriodSeconds), NAME], (podSpec.terminationGracePeriodSeconds + 15) * 1000)
    await until(async () => (await status('/readyz')) === 503, 2000, '/readyz 503 after SIGTERM')
    expect(await status('/healthz')).toBe(200)
    expect(await status('/asyncapi.json')).toBe(200)
    const stopped = await stop
    const ms = Date.now() - t0
    timings.stopMs = ms
    expect(stopped.code, stopped.err).toBe(0)
    const state = (await must(['inspect', NAME, '--format', '{{.State.ExitCode}}'], 20_000)).out.trim()
    expect(state).toBe('0') // not 137: podman did not have to SIGKILL it
    expect(ms).toBeGreaterThanOrEqual(drainMs - 200)
    expect(ms).toBeLessThan(drainMs + SHUTDOWN_DEADLINE_MS + 2000)
    expect(ms).toBeLessThan(podSpec.terminationGracePeriodSeconds * 1000)
  }, 30_000)

  it('once the container stopped, TickcastInstanceDown fires on that Prometheus with its severity and runbook link', async () => {
    expect(prom, 'the Prometheus of the scrape test').not.toBeNull()
    const down = async (): Promise<string[]> => (await prom!.alerts()).filter((a) => a.labels.alertname === 'TickcastInstanceDown').map((a) => a.state)
    await until(async () => (await down()).includes('firing'), 20_000, 'TickcastInstanceDown firing')
    const firing = (await prom!.alerts()).find((a) => a.labels.alertname === 'TickcastInstanceDown' && a.state === 'firing')!
    expect(firing.labels).toMatchObject({ severity: 'critical', job: 'tickcast', instance: `127.0.0.1:${metricsPort}` })
    expect(firing.annotations.runbook_url).toMatch(/\/grafana\/RUNBOOK\.md#tickcastinstancedown$/)
  }, 30_000)
})
