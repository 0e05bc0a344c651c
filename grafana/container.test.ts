// The container, compose and Kubernetes files, checked without a container engine (docker/container.test.ts builds and
// runs the image: `npm run test:container`): parsed, every COPY source exists, every argument list is one tickcast
// accepts and starts with, ports, probes and scrape settings agree, and the runtime stage's file set serves the page.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../test-support/wait-for.js'
import { HTTP_ROUTES } from '../src/metrics/http-stats.js'
import { loadConfig, OPTIONS } from '../src/config.js'
import type { Config } from '../src/config.js'

// js-yaml is in the lockfile (eslint's dependency); typed here with the two calls this test uses
const yaml = createRequire(import.meta.url)('js-yaml') as { load(s: string): unknown; loadAll(s: string): unknown[] }
const ROOT = join(import.meta.dirname, '..')
const dockerfile = readFileSync(join(import.meta.dirname, 'Dockerfile'), 'utf8')
/** Instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
const stages: string[][] = []
for (const i of instructions) { if (i.startsWith('FROM ')) stages.push([]); stages[stages.length - 1]?.push(i) } // ARGs before FROM: global
const runtime = stages[stages.length - 1]
const ignored = readFileSync(join(import.meta.dirname, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))

type Obj = Record<string, unknown>
/** An argument list as tickcast parses it; fails the test on any problem (unknown flag, bad value). */
function parse(args: readonly string[]): Config {
  const r = loadConfig(args, {})
  if (r.kind !== 'run') throw new Error(`not a run: ${args.join(' ')}`)
  return r.config
}
/** The exposure rule tickcast enforces at boot (AUTH_REQUIRED): a non-loopback listener needs auth or --allow-anonymous. */
function startsExposed(c: Config): boolean {
  const loopback = c.host === '127.0.0.1' || c.host === '::1' || c.host === 'localhost'
  return loopback || c.allowAnonymous || Boolean(c.authJwtSecretFile || c.authJwksFile || c.authJwksUrl || c.authApiKeysFile)
}
const def = (flag: string): number => Number(OPTIONS.find((o) => o.flag === flag)!.def)
const jsonAfter = (i: string, word: string): string[] => JSON.parse(i.slice(word.length)) as string[]
const cmd = parse(jsonAfter(runtime.find((i) => i.startsWith('CMD '))!, 'CMD'))
const tmp = mkdtempSync(join(tmpdir(), 'tickcast-image-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('grafana/Dockerfile', () => {
  it('is multi-stage on Node 22 LTS, runs as a non-root user, has a HEALTHCHECK and stops on SIGTERM', () => {
    expect(stages.length).toBe(2)
    // one base for both stages, Node 22 LTS by default (the container test points it at a locally built stand-in)
    expect(instructions[0]).toBe('ARG NODE_IMAGE=node:22-bookworm-slim')
    expect(stages.map((s) => s[0])).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}'])
    expect(runtime.find((i) => i.startsWith('USER '))).toBe('USER node')
    expect(runtime).toContain('STOPSIGNAL SIGTERM')
  })

  it('starts with its own CMD: accepted flags, listening beyond loopback with the exposure rule met, on the EXPOSEd ports', () => {
    expect(cmd.host).toBe('0.0.0.0')
    expect(startsExposed(cmd)).toBe(true)
    expect(runtime).toContain(`EXPOSE ${cmd.port} ${metricsPort(cmd)}`) // clients, then the metrics listener
    // the HEALTHCHECK probes liveness on that port, with the node the image has (no curl/wget in the slim base)
    const hc = runtime.find((i) => i.startsWith('HEALTHCHECK '))!
    expect(hc).toMatch(/--start-period=\d+s/)
    expect(hc).toContain(`CMD ["node", "-e", "fetch('http://127.0.0.1:${cmd.port}/healthz')`)
    expect(cmd.drainMs).toBeGreaterThan(0)
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

  it("drops from the runtime modules exactly the dependencies that no server or simulator module imports", () => {
    const dropped = [...(instructions.find((i) => i.includes('npm pkg delete')) ?? '').matchAll(/'dependencies\[([^\]]+)\]'/g)].map((m) => m[1])
    const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Obj }).dependencies)
    const sources = ['src', 'feeds'].flatMap((d) => readdirSync(join(ROOT, d), { recursive: true, encoding: 'utf8' }).map((f) => join(ROOT, d, f)))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => readFileSync(f, 'utf8')).join('\n')
    const imported = (d: string): boolean => new RegExp(`(?:from|import\\(|require\\()\\s*'${d.replace(/\./g, '\\.')}(?:/[^']*)?'`).test(sources)
    expect(dropped.sort()).toEqual(deps.filter((d) => !imported(d)).sort())
  })

  it('keeps exactly one uWS binary, and it is the one this Node ABI loads (the 22 LTS ABI is shipped too)', () => {
    const bin = join(ROOT, 'node_modules/uWebSockets.js/dist/bin')
    expect(existsSync(join(bin, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`))).toBe(true)
    expect(existsSync(join(bin, 'uws_linux_x64_127.node'))).toBe(true) // Node 22 = ABI 127
    const prune = instructions.find((i) => i.includes('uWebSockets.js/dist/bin'))!
    expect(prune).toContain("process.platform + \"_\" + process.arch + \"_\" + process.versions.modules")
    expect(prune).toMatch(/^RUN npm pkg delete .* && npm prune --omit=dev /)
    expect(prune).toContain('test -f "node_modules/uWebSockets.js/dist/bin/$keep"') // a wrong name fails the build
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

describe('grafana/docker-compose.yml and grafana/prometheus.yml', () => {
  const compose = yaml.load(readFileSync(join(import.meta.dirname, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Obj> }
  const t = compose.services.tickcast
  const args = t.command ? parse(t.command as string[]) : cmd
  const seconds = (v: unknown): number => Number(/^(\d+)s$/.exec(String(v))?.[1] ?? NaN)

  it('runs the image as built, publishes its port, health-checks /readyz with node, and stops after the drain', () => {
    expect((t.build as Obj).dockerfile).toBe('grafana/Dockerfile')
    expect(t.ports).toEqual([`${args.port}:${args.port}`])
    const test = (t.healthcheck as { test: string[] }).test
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e'])
    expect(test[3]).toContain(`fetch('http://127.0.0.1:${args.port}/readyz')`)
    expect(seconds(t.stop_grace_period) * 1000).toBeGreaterThan(args.drainMs + args.shutdownDeadlineMs)
  })

  it('points tickcast at the compose broker, started and healthy first; every depends_on names a service', () => {
    const mqtt = new URL(args.mqttUrl)
    expect(mqtt.hostname).toBe('mosquitto')
    expect(compose.services.mosquitto.ports).toEqual([`${mqtt.port}:${mqtt.port}`])
    expect(compose.services.mosquitto.healthcheck).toBeTruthy()
    expect(t.depends_on).toEqual({ mosquitto: { condition: 'service_healthy' } })
    for (const s of Object.values(compose.services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on as string[] : Object.keys((s.depends_on ?? {}) as Obj)
      for (const d of deps) expect(Object.keys(compose.services)).toContain(d)
    }
  })

  it('Prometheus loads its config and the alert rules from where compose mounts them, and scrapes tickcast on its port', () => {
    const p = compose.services.prometheus
    const mounts = new Map((p.volumes as string[]).map((v) => { const [src, dst] = v.split(':'); return [dst, src] }))
    const configFile = (p.command as string[]).find((a) => a.startsWith('--config.file='))!.split('=')[1]
    expect(mounts.get(configFile)).toBe('./prometheus.yml')
    expect(p.healthcheck).toBeTruthy()
    const prom = yaml.load(readFileSync(join(import.meta.dirname, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[]; scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }>
    }
    expect(prom.rule_files.length).toBeGreaterThan(0)
    for (const rf of prom.rule_files) {
      // rule files resolve against the config file's directory inside the container: map back to the host through the mount
      const inContainer = join(dirname(configFile), rf)
      const mount = [...mounts.keys()].find((dst) => inContainer.startsWith(dst + '/'))
      expect(mount, `${rf} is not under a mounted directory`).toBeTruthy()
      expect(existsSync(join(import.meta.dirname, mounts.get(mount!)!, inContainer.slice(mount!.length)))).toBe(true)
    }
    const job = prom.scrape_configs[0]
    expect(job.metrics_path).toBe('/metrics')
    expect(job.static_configs[0].targets).toEqual([`tickcast:${metricsPort(args)}`])
  })
})

/** Where /metrics is served: the HTTP port, unless a separate metrics listener option exists. */
function metricsPort(c: Config): number {
  return OPTIONS.some((o) => o.flag === 'metrics-port') ? Number((c as unknown as Obj).metricsPort) || c.port : c.port
}

describe('k8s/tickcast.yaml', () => {
  const docs = yaml.loadAll(readFileSync(join(ROOT, 'k8s/tickcast.yaml'), 'utf8')) as Obj[]
  const byKind = (k: string): Obj => docs.find((d) => d.kind === k) as Obj
  type Probe = { httpGet: { path: string; port: string | number }; periodSeconds: number; failureThreshold: number }
  const dep = byKind('Deployment').spec as { replicas: number; template: { metadata: { labels: Obj; annotations: Obj }; spec: Obj } }
  const pod = dep.template.spec as { containers: Array<Obj>; terminationGracePeriodSeconds: number; securityContext: Obj }
  const c = pod.containers[0] as { args: string[]; ports: Array<{ name: string; containerPort: number }>; readinessProbe: Probe; livenessProbe: Probe }
  const args = parse(c.args)
  const portOf = (p: string | number): number | undefined => typeof p === 'number' ? p : c.ports.find((x) => x.name === p)?.containerPort

  it('has exactly a Deployment, a Service and a PodDisruptionBudget', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service'])
  })

  it('starts with its args (flags accepted, exposure rule met) and declares the ports it listens on', () => {
    expect(startsExposed(args)).toBe(true)
    expect(c.ports.map((p) => p.containerPort)).toEqual([args.port, metricsPort(args)])
  })

  it('probes readiness on /readyz and liveness on /healthz, routes tickcast serves, on its port', () => {
    expect(c.readinessProbe.httpGet.path).toBe('/readyz')
    expect(c.livenessProbe.httpGet.path).toBe('/healthz')
    for (const p of [c.readinessProbe, c.livenessProbe]) {
      expect(HTTP_ROUTES).toContain(p.httpGet.path.slice(1))
      expect(portOf(p.httpGet.port)).toBe(args.port)
    }
  })

  it('drains before clients are closed: readiness fails within the drain, the grace period covers drain and deadline', () => {
    // the endpoint is removed after periodSeconds × failureThreshold of 503s: that must fit inside --drain-ms
    expect(c.readinessProbe.periodSeconds * c.readinessProbe.failureThreshold * 1000).toBeLessThan(args.drainMs)
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(args.drainMs + (args.shutdownDeadlineMs || def('shutdown-deadline-ms')))
  })

  it('has scrape annotations naming where /metrics is served', () => {
    expect(dep.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort(args)), 'prometheus.io/path': '/metrics',
    })
    expect(HTTP_ROUTES).toContain('metrics')
  })

  it('runs as the image user (node = 1000), non-root, and matches the Service and the PodDisruptionBudget to the pods', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 })
    const svc = byKind('Service').spec as { selector: Obj; ports: Array<{ targetPort: string | number }> }
    expect(dep.template.metadata.labels).toMatchObject(svc.selector)
    for (const p of svc.ports) expect(portOf(p.targetPort)).toBe(args.port)
    const pdb = byKind('PodDisruptionBudget').spec as { minAvailable: number; selector: { matchLabels: Obj } }
    expect(pdb.selector.matchLabels).toEqual(svc.selector)
    // minAvailable equal to replicas would block every voluntary eviction (node drains hang)
    expect(pdb.minAvailable).toBeLessThan(dep.replicas)
  })
})
