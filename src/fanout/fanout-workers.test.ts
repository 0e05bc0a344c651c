import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { startTickcast } from '../server.js'
import type { Tickcast } from '../server.js'
import { sleep, waitFor } from '../test-support/wait-for.js'
import { DispatchStats } from './dispatcher.js'
import { WsStats } from './ws-stats.js'

// Workers run the compiled dist/src/fanout/fanout-worker.js (the global setup builds dist/); the rest runs from sources.
const running: Tickcast[] = []
const children: ChildProcessWithoutNullStreams[] = []
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate()
  for (const r of running.splice(0)) await r.stop()
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN']
type Ev = Record<string, unknown> & { e: string; s: string; n: number }

/** One client: per-symbol snapshot then n+1 contiguous; returns `symbol:n` → the event without its exchange time. */
function client(url: string): Promise<{ events: Ev[]; close: Promise<number> }> {
  const ws = new WebSocket(url)
  sockets.push(ws)
  const events: Ev[] = []
  ws.on('message', (d) => { const m = JSON.parse(d.toString()) as unknown; if (Array.isArray(m)) events.push(...(m as Ev[])) })
  const close = new Promise<number>((r) => ws.on('close', (code) => r(code)))
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () => { ws.send(JSON.stringify({ op: 'subscribe', symbols: SYMBOLS })); resolve({ events, close }) })
  })
}

function checkedStream(events: Ev[]): Map<string, string> {
  const last = new Map<string, number>(), out = new Map<string, string>()
  for (const e of events) {
    const prev = last.get(e.s)
    if (prev === undefined) expect(e.e, `first event of ${e.s}`).toBe('snap')
    else expect(e.n, `${e.s} after ${prev}`).toBe(prev + 1)
    last.set(e.s, e.n)
    if (e.e !== 'snap') out.set(`${e.s}:${e.n}`, JSON.stringify({ ...e, t: 0 })) // exchange times follow the wall clock
  }
  return out
}

async function run(workers: number): Promise<Map<string, string>> {
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--sim-rate', '4000', '--sim-seed', '7', '--workers', String(workers)], {})
  if (cli.kind !== 'run') throw new Error('config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
  running.push(t)
  const clients = await Promise.all([0, 1, 2, 3, 4, 5].map(() => client(t.url)))
  await waitFor(() => clients.every((c) => SYMBOLS.every((s) => c.events.filter((e) => e.s === s).length >= 20)), 8000, '20 events per symbol per client')
  if (t.workers) {
    await t.workers.collect(new WsStats(), new DispatchStats(), new WsStats(), Object.assign(new DispatchStats(), { readSeq: -1 }))
    const per = t.workers.connectionsPerWorker()
    expect(per.reduce((a, b) => a + b, 0), `connections per worker ${per}`).toBe(6)
    for (const n of per) expect(n, `connections per worker ${per}`).toBeGreaterThan(0)
  }
  const merged = new Map<string, string>()
  for (const c of clients) {
    for (const [k, v] of checkedStream(c.events)) {
      const seen = merged.get(k)
      if (seen !== undefined) expect(v, k).toBe(seen) // every client of this run saw the same event n
      merged.set(k, v)
    }
  }
  running.splice(running.indexOf(t), 1)
  await t.stop()
  return merged
}

describe('--workers N fan-out', () => {
  it('delivers the same per-symbol events with 0, 1 and 2 worker threads (snapshot, then n+1 contiguous on every client)', async () => {
    const runs = [await run(0), await run(1), await run(2)]
    let compared = 0
    for (const s of SYMBOLS) {
      const ns = runs.map((m) => [...m.keys()].filter((k) => k.startsWith(`${s}:`)).map((k) => Number(k.slice(s.length + 1))))
      const from = Math.max(...ns.map((a) => Math.min(...a))), to = Math.min(...ns.map((a) => Math.max(...a)))
      for (let n = from; n <= to; n++) {
        const k = `${s}:${n}`
        expect(runs[1].get(k), `${k} workers 1 vs 0`).toBe(runs[0].get(k))
        expect(runs[2].get(k), `${k} workers 2 vs 0`).toBe(runs[0].get(k))
        compared++
      }
    }
    expect(compared).toBeGreaterThanOrEqual(40)
  }, 30_000)

  it('stops with workers: every client gets 1001 and /metrics summed all threads before', async () => {
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--sim-rate', '2000', '--workers', '2'], {})
    if (cli.kind !== 'run') throw new Error('config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(t)
    const clients = await Promise.all([0, 1, 2, 3].map(() => client(t.url)))
    await waitFor(() => clients.every((c) => c.events.length > 4), 5000, 'events on every client')
    const text = await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text()
    expect(text).toMatch(/^tickcast_ws_connections 4$/m)
    expect(t.ws.stats.connections).toBe(0) // the main thread serves none: its app hands every connection to a worker
    await t.stop()
    const codes = await Promise.race([Promise.all(clients.map((c) => c.close)), sleep(3000).then(() => [])])
    expect(codes).toEqual([1001, 1001, 1001, 1001])
  })

  it('node dist/src/main.js --workers 2 exits 0 on SIGTERM after every client got 1001 (no uv_loop_close abort)', async () => {
    const child = spawn(process.execPath, ['dist/src/main.js', '--port', '0', '--mqtt-url', 'none', '--workers', '2', '--sim-rate', '2000'],
      { env: { ...process.env, TICKCAST_LOG_LEVEL: 'warn' } })
    children.push(child)
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    await waitFor(() => /WebSocket\s+ws:\/\//.test(out), 10_000, `the ready banner (stderr: ${err})`)
    const url = /WebSocket\s+(ws:\/\/\S+)/.exec(out)![1]
    const clients = await Promise.all([0, 1, 2, 3].map(() => client(url)))
    await waitFor(() => clients.every((c) => c.events.length > 4), 5000, 'events on every client')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(await Promise.all(clients.map((c) => c.close))).toEqual([1001, 1001, 1001, 1001])
    expect(err).not.toMatch(/uv_loop_close|Assertion|abort/i)
  })
})
