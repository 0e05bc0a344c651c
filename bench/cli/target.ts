// Owns where the bench CLI sends load: a deployment named by --url/--http/--mqtt, or tickcast + simulator it starts itself.
// Must never leave a process it started running: every child goes through bench/lib/procs (stopAll on any exit).
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnReady, stop } from '../lib/procs.js'
import type { Target } from './scenario.js'

/** dist/ of this package: this file runs compiled (dist/bench/cli/) or, in tests, from source (bench/cli/) */
const up = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const distRoot = basename(up) === 'dist' ? up : join(up, 'dist')

export interface TargetOptions {
  url?: string; http?: string; mqtt?: string; metrics?: string
  token?: string; apiKey?: string; authMode: 'header' | 'message'
  /** embedded: simulator messages per second (0 = as fast as it can) and symbols */
  feedRate: number; symbols: number
  /** embedded: extra tickcast flags, split on spaces */
  serverArgs: string
  mqttNeeded: boolean
}

export interface StartedTarget { target: Target; stop(): Promise<void> }

/** http(s)://host:port of a ws(s):// URL: the same listener serves both (tickcast's uWS app). */
export function httpOf(ws: string): string {
  const u = new URL(ws)
  return `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}`
}

export async function startTarget(o: TargetOptions): Promise<StartedTarget> {
  const credential = o.token ?? o.apiKey ?? null
  if (o.url) {
    const u = new URL(o.url)
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`--url: expected ws://host:port/v1/stream, got ${o.url}`)
    const target: Target = { ws: o.url, http: (o.http ?? httpOf(o.url)).replace(/\/$/, ''), metrics: o.metrics ?? defaultMetrics(o.url), mqtt: o.mqtt ?? null, credential, authMode: o.authMode, embedded: false, feedPort: null }
    return { target, stop: async () => {} }
  }
  const { child: sim, match: simPort } = await spawnReady('node', [join(distRoot, 'feeds', 'sim.js'), '--port', '0', '--rate', String(o.feedRate), '--symbols', String(o.symbols)], /"port":(\d+)/)
  const feedPort = Number(simPort[1])
  const extra = o.serverArgs.trim() === '' ? [] : o.serverArgs.trim().split(/\s+/)
  try {
    const { child, match } = await spawnReady('node', [join(distRoot, 'src', 'main.js'), '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn',
      '--mqtt-url', o.mqttNeeded ? '' : 'none', '--feed', `sim=native:tcp://127.0.0.1:${feedPort}`,
      // a load test from one address: the per-address caps that protect a deployment would refuse the generator itself
      '--max-connections-per-ip', '0', '--upgrades-per-ip-per-sec', '0', ...extra], /MQTT\s+(\S+)/)
    // the ready banner: WebSocket, HTTP and MQTT lines; the MQTT line comes last
    const banner = match.input
    const ws = /WebSocket\s+(ws:\/\/\S+)/.exec(banner)?.[1]
    if (!ws) throw new Error(`tickcast did not print its WebSocket URL: ${banner.slice(0, 300)}`)
    const mqtt = /^mqtts?:/.test(match[1]) ? match[1] : null
    const metrics = /Metrics\s+(https?:\/\/\S+)/.exec(banner)?.[1] ?? null
    const target: Target = { ws, http: httpOf(ws), metrics: o.metrics ?? metrics, mqtt: o.mqtt ?? mqtt, credential, authMode: o.authMode, embedded: true, feedPort }
    await waitReady(target.http, 15_000)
    return { target, stop: async () => { await stop(child); await stop(sim) } }
  } catch (e) { await stop(sim); throw e }
}

/** tickcast's default: /metrics on the client port + 1 (--metrics-port -1), same host */
function defaultMetrics(ws: string): string {
  const u = new URL(ws)
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80))
  return `http://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${port + 1}/metrics`
}

/** Waits until /readyz answers 200 (the feed is logged in and data flows), at most timeoutMs. */
async function waitReady(http: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    try { if ((await fetch(`${http}/readyz`)).status === 200) return } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`${http}/readyz not ready within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The server's version, commit and Node.js from tickcast_build_info on /metrics; null when not reachable. */
export async function serverInfo(t: Target): Promise<{ version: string; commit: string; node: string } | null> {
  if (!t.metrics) return null
  try {
    const r = await fetch(t.metrics, { headers: t.credential ? { authorization: `Bearer ${t.credential}` } : {}, signal: AbortSignal.timeout(3000) })
    if (r.status !== 200) return null
    const line = (await r.text()).split('\n').find((l) => l.startsWith('tickcast_build_info{'))
    if (!line) return null
    const label = (k: string): string => new RegExp(`${k}="([^"]*)"`).exec(line)?.[1] ?? ''
    return { version: label('version'), commit: label('commit'), node: label('node') }
  } catch { return null }
}
