// The hostile-client figures of issue 10: a tickcast process, a bystander subscribed to `*` checking that every
// symbol's `n` rises by exactly 1 and timing its longest stall, under each attack in turn. Prints one row per attack.
// Never asserts: `npm run bench:hostile` prints the figures the README's Security table quotes.
import { connect } from 'node:net'
import WebSocket from 'ws'
import { cpuSec, freePort, rssBytes, spawnReady, stopAll } from './lib/procs.js'

const ATTACK_MS = Number(process.env.HOSTILE_ATTACK_MS ?? 3000)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

class Bystander {
  private readonly last = new Map<string, number>()
  gaps = 0; maxStallMs = 0; events = 0
  private at = performance.now()
  readonly ws: WebSocket
  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.ws.on('close', (code) => { console.log(`    bystander closed: ${code}`) })
    this.ws.on('open', () => this.ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] })))
    this.ws.on('message', (d) => {
      const now = performance.now()
      this.maxStallMs = Math.max(this.maxStallMs, now - this.at); this.at = now
      const m = JSON.parse(d.toString()) as unknown
      for (const e of Array.isArray(m) ? m as Array<{ s: string; n: number; e: string }> : []) {
        this.events++
        const prev = this.last.get(e.s)
        if (prev !== undefined && e.e !== 'snap' && e.n !== prev + 1) this.gaps++
        this.last.set(e.s, e.n)
      }
    })
  }
  reset(): void { this.maxStallMs = 0; this.at = performance.now() }
  /** the stall still running counts too (a bystander that hears nothing has one long stall) */
  stall(): number { return Math.max(this.maxStallMs, performance.now() - this.at) }
}

async function pipelined(port: number, path: string, requests: number, conns: number): Promise<() => void> {
  const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(requests))
  const socks = Array.from({ length: conns }, () => { const s = connect(port, '127.0.0.1'); s.pause(); s.on('error', () => {}); s.write(req); return s })
  return () => { for (const s of socks) s.destroy() }
}

async function flood(url: string, n: number): Promise<() => void> {
  const list: WebSocket[] = []
  for (let i = 0; i < n; i++) { const w = new WebSocket(url); w.on('error', () => {}); w.on('unexpected-response', () => {}); list.push(w) }
  return () => { for (const w of list) w.terminate() }
}

async function churn(url: string, n: number): Promise<() => void> {
  let bytes = 0, stop = false
  const list = Array.from({ length: n }, () => {
    const w = new WebSocket(url); let on = false
    w.on('error', () => {}); w.on('message', (d: Buffer) => { bytes += d.length })
    w.on('open', () => { const tick = (): void => { if (stop || w.readyState !== 1) return; w.send(JSON.stringify({ op: on ? 'unsubscribe' : 'subscribe', symbols: ['*'] })); on = !on; setTimeout(tick, 20) }; tick() })
    return w
  })
  const t0 = performance.now()
  return () => { stop = true; for (const w of list) w.terminate(); console.log(`    churn pulled ${(bytes / 1e6 / ((performance.now() - t0) / 1000)).toFixed(1)} MB/s of snapshots`) }
}

async function subscribers(url: string, n: number, maxHz: number | null): Promise<() => void> {
  const list = Array.from({ length: n }, () => {
    const w = new WebSocket(url); w.on('error', () => {}); w.on('message', () => {})
    w.on('open', () => w.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], ...(maxHz === null ? {} : { maxHz }) })))
    return w
  })
  return () => { for (const w of list) w.terminate() }
}

async function main(): Promise<void> {
  const port = await freePort()
  const { child } = await spawnReady(process.execPath, ['dist/src/main.js', '--port', String(port), '--mqtt-url', 'none', '--log-level', 'warn',
    '--sim-rate', process.env.HOSTILE_SIM_RATE ?? '2000'], /tickcast ready/)
  const pid = child.pid!, url = `ws://127.0.0.1:${port}/v1/stream`
  const by = new Bystander(url)
  await sleep(1500)
  const attacks: Array<[string, () => Promise<() => void>]> = [
    ['idle (reference)', async () => () => {}],
    ['20 conns × 5,000 pipelined /metrics, never read', () => pipelined(port, '/metrics', 5000, 20)],
    ['1 conn × 6,000 pipelined /asyncapi.json, never read', () => pipelined(port, '/asyncapi.json', 6000, 1)],
    ['churn: 50 clients toggling subscribe/unsubscribe *', () => churn(url, 50)],
    ['100 unthrottled * clients', () => subscribers(url, 100, null)],
    ['100 * clients at maxHz:100', () => subscribers(url, 100, 100)],
    ['flood: 3,000 WebSocket connections from one IP (last: it empties the IP\'s upgrade bucket)', () => flood(url, 3000)],
  ]
  console.log('| attack | bystander longest stall (ms) | bystander n gaps | server RSS growth (MB) | server CPU (%) |')
  console.log('|---|---|---|---|---|')
  for (const [name, start] of attacks) {
    await sleep(500)
    const rss0 = rssBytes(pid), cpu0 = cpuSec(pid), t0 = performance.now()
    by.reset()
    const end = await start()
    let peak = rss0
    while (performance.now() - t0 < ATTACK_MS) { await sleep(100); peak = Math.max(peak, rssBytes(pid)) }
    const stall = by.stall()
    const cpu = 100 * (cpuSec(pid) - cpu0) / ((performance.now() - t0) / 1000)
    console.log(`| ${name} | ${stall.toFixed(0)} | ${by.gaps} | ${((peak - rss0) / 1e6).toFixed(1)} | ${cpu.toFixed(0)} |`)
    end()
  }
  by.ws.terminate()
  await stopAll()
}

main().catch(async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
