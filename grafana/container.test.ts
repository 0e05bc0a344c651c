// The container, compose and Kubernetes files, checked as far as this machine allows (no container engine runs here):
// parsed, every COPY source exists in the build context, and the runtime stage's exact file set, assembled in a temp
// dir and started, serves /, /client.js, /asyncapi.json and /healthz.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../test-support/wait-for.js'

// js-yaml is in the lockfile (eslint's dependency); typed here with the two calls this test uses
const yaml = createRequire(import.meta.url)('js-yaml') as { load(s: string): unknown; loadAll(s: string): unknown[] }
const ROOT = join(import.meta.dirname, '..')
const dockerfile = readFileSync(join(import.meta.dirname, 'Dockerfile'), 'utf8')
/** Instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
const stages: string[][] = []
for (const i of instructions) { if (i.startsWith('FROM ')) stages.push([]); stages[stages.length - 1].push(i) }
const runtime = stages[stages.length - 1]
const ignored = readFileSync(join(import.meta.dirname, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))

type Obj = Record<string, unknown>
const tmp = mkdtempSync(join(tmpdir(), 'tickcast-image-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('grafana/Dockerfile', () => {
  it('is multi-stage on Node 22 LTS, runs as a non-root user, has a HEALTHCHECK and stops on SIGTERM', () => {
    expect(stages.length).toBe(2)
    for (const s of stages) expect(s[0]).toMatch(/^FROM node:22-bookworm-slim\b/)
    expect(runtime.find((i) => i.startsWith('USER '))).toBe('USER node')
    expect(runtime.some((i) => /^HEALTHCHECK .*\/healthz/.test(i))).toBe(true)
    expect(runtime).toContain('STOPSIGNAL SIGTERM')
  })

  it('copies only sources that exist in the build context and are not .dockerignored', () => {
    const copies = instructions.filter((i) => i.startsWith('COPY ') && !i.includes('--from='))
    expect(copies.length).toBeGreaterThan(5)
    for (const c of copies) {
      const parts = c.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'))
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(join(ROOT, src)), `${c}: ${src} missing`).toBe(true)
        expect(ignored.some((g) => src === g || src.startsWith(g + '/')), `${c}: ${src} is .dockerignored`).toBe(false)
      }
    }
  })

  it('keeps exactly one uWS binary, and it is the one this Node ABI loads (the 22 LTS ABI is shipped too)', () => {
    const bin = join(ROOT, 'node_modules/uWebSockets.js/dist/bin')
    expect(existsSync(join(bin, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`))).toBe(true)
    expect(existsSync(join(bin, 'uws_linux_x64_127.node'))).toBe(true) // Node 22 = ABI 127
    const prune = instructions.find((i) => i.includes('uWebSockets.js/dist/bin'))!
    expect(prune).toContain("process.platform + \"_\" + process.arch + \"_\" + process.versions.modules")
    expect(prune).toMatch(/find node_modules\/uWebSockets\.js\/dist\/bin -name '\*\.node' ! -name "\$keep" -delete/)
  })

  it("the runtime stage's file set, assembled as the image would be, serves the page, the client, /asyncapi.json and /healthz", async () => {
    // the runtime stage: COPY --from=build /app/<x> ./<x> and COPY <context files> ./ — from this tree's build
    for (const i of runtime.filter((x) => x.startsWith('COPY '))) {
      const parts = i.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'))
      const dest = parts[parts.length - 1]
      for (const src of parts.slice(0, -1)) {
        const from = i.includes('--from=build') ? join(ROOT, src.replace(/^\/app\//, '')) : join(ROOT, src)
        const to = dest.endsWith('/') ? join(tmp, dest, src.split('/').pop()!) : join(tmp, dest)
        if (src.endsWith('node_modules')) { symlinkSync(from, to); continue } // the image's are npm ci --omit=dev
        mkdirSync(dirname(to), { recursive: true })
        cpSync(from, to, { recursive: true })
      }
    }
    expect(existsSync(join(tmp, 'asyncapi.json'))).toBe(true)
    const entry = runtime.find((i) => i.startsWith('ENTRYPOINT'))!
    const args = JSON.parse(entry.slice('ENTRYPOINT'.length)) as string[]
    const child = spawn(args[0] === 'node' ? process.execPath : args[0], [...args.slice(1), '--host', '127.0.0.1', '--port', '0', '--mqtt-url', 'none', '--sim-rate', '200', '--log-level', 'warn'], { cwd: tmp })
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d }); child.stderr.on('data', (d) => { err += d })
    try {
      await waitFor(() => /HTTP\s+http:\/\//.test(out) || child.exitCode !== null, 20_000, 'the banner')
      const base = /HTTP\s+(http:\/\/\S+?)\/?\s/.exec(out)?.[1]
      expect(base, `stdout: ${out} stderr: ${err}`).toBeTruthy()
      for (const path of ['/', '/client.js', '/asyncapi.json', '/healthz']) {
        const r = await fetch(base + path, { signal: AbortSignal.timeout(3000) })
        expect(r.status, path).toBe(200)
      }
      const metricsUrl = /Metrics\s+(http:\/\/\S+)/.exec(out)?.[1] // /metrics has a listener of its own
      expect((await fetch(metricsUrl!, { signal: AbortSignal.timeout(3000) })).status).toBe(200)
      const api = await (await fetch(`${base}/asyncapi.json`)).json() as { asyncapi: string }
      expect(api.asyncapi).toMatch(/^3\./)
    } finally {
      child.kill('SIGTERM')
    }
  }, 40_000)
})

describe('grafana/docker-compose.yml', () => {
  const compose = yaml.load(readFileSync(join(import.meta.dirname, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Obj> }
  it('health-checks tickcast on /readyz and the broker, and mounts the alert rules into Prometheus', () => {
    const t = compose.services.tickcast
    expect(JSON.stringify((t.healthcheck as Obj).test)).toContain('/readyz')
    expect(compose.services.mosquitto.healthcheck).toBeTruthy()
    expect(t.depends_on).toEqual({ mosquitto: { condition: 'service_healthy' } })
    expect(compose.services.prometheus.volumes).toContain('./alerts:/etc/prometheus/alerts:ro')
    expect((t.build as Obj).dockerfile).toBe('grafana/Dockerfile')
  })
})

describe('k8s/tickcast.yaml', () => {
  const docs = yaml.loadAll(readFileSync(join(ROOT, 'k8s/tickcast.yaml'), 'utf8')) as Obj[]
  const byKind = (k: string): Obj => docs.find((d) => d.kind === k) as Obj
  it('has a Deployment probing /readyz and /healthz with scrape annotations, a Service and a PodDisruptionBudget', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service'])
    const tpl = ((byKind('Deployment').spec as Obj).template as Obj)
    const meta = tpl.metadata as { labels: Obj; annotations: Obj }
    expect(meta.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464', 'prometheus.io/path': '/metrics' })
    const pod = tpl.spec as { containers: Array<Obj>; terminationGracePeriodSeconds: number }
    const c = pod.containers[0] as { readinessProbe: { httpGet: Obj }; livenessProbe: { httpGet: Obj }; args: string[] }
    expect(c.readinessProbe.httpGet.path).toBe('/readyz')
    expect(c.livenessProbe.httpGet.path).toBe('/healthz')
    // the grace period covers the drain and the shutdown deadline
    const drainSec = Number(c.args[c.args.indexOf('--drain-ms') + 1]) / 1000
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drainSec + 2)
    const sel = ((byKind('Service').spec as Obj).selector as Obj)
    expect(meta.labels).toMatchObject(sel)
    expect((((byKind('PodDisruptionBudget').spec as Obj).selector as Obj).matchLabels as Obj)).toEqual(sel)
  })
})
