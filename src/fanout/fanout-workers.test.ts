import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import type * as ServerModule_ from '../server.js'
import type { Tickcast } from '../server.js'
type ServerModule = typeof ServerModule_
import { startInProcessSimulator } from '../../test-support/embedded-simulator.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { FeedGenerator } from '../../feeds/sim/generator.js'
import { loadUniverse } from '../../feeds/sim/universe.js'
import { loadCapture, startReplay } from '../../feeds/replay/index.js'
import { NativeDecoder } from '../feed/decoders/native.js'
import { FeedStats } from '../feed/feed-stats.js'
import { bootError } from '../errors.js'
import { DispatchStats } from './dispatcher.js'
import { FanoutWorkers } from './fanout-workers.js'
import type { FanoutWorkersOptions } from './fanout-workers.js'
import { WsStats } from './ws-stats.js'

// Worker threads load JavaScript only, so these tests run the server exactly as `npm start` does: the compiled dist/
// (the global setup builds it), worker entry and all. No compiled-vs-source branch exists in the product.
// (The path is a variable so typecheck, which runs before any build, does not look for it.)
const DIST_SERVER = '../../dist/src/server.js'
const { startTickcast } = await import(DIST_SERVER) as ServerModule
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

/** A WebSocket client subscribed to `symbols`; collects data events. */
function client(url: string, symbols: string[] = SYMBOLS): Promise<{ events: Ev[]; close: Promise<number> }> {
  const ws = new WebSocket(url)
  sockets.push(ws)
  const events: Ev[] = []
  let acked = false
  ws.on('message', (d) => { const m = JSON.parse(d.toString()) as Ev | Ev[]; if (Array.isArray(m)) events.push(...m); else if (m.type === 'subscribed') acked = true })
  const close = new Promise<number>((r) => ws.on('close', (code) => r(code)))
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () => {
      ws.send(JSON.stringify({ op: 'subscribe', symbols }))
      void waitFor(() => acked, 5000, 'subscribe ack').then(() => resolve({ events, close }), reject)
    })
  })
}

/** Every symbol's stream is contiguous from n = 1; returns `symbol:n` → the event. */
function checkedStream(events: Ev[]): Map<string, string> {
  const last = new Map<string, number>(), out = new Map<string, string>()
  for (const e of events) {
    expect(e.n, `${e.s} after ${last.get(e.s) ?? 0}`).toBe((last.get(e.s) ?? 0) + 1)
    last.set(e.s, e.n)
    out.set(`${e.s}:${e.n}`, JSON.stringify(e))
  }
  return out
}

/** A deterministic native session (20 symbols, seeded) as Nasdaq BinaryFILE bytes, and its event count. */
function capture(): { bytes: Buffer; events: number } {
  const gen = new FeedGenerator({ universe: loadUniverse(), symbols: 20, seed: 7, startTimeUs: 1_732_619_000_000_000 })
  const bytes = Buffer.alloc(6000 * 60)
  let o = 0
  gen.emit(6000, (buf, off, len) => { bytes.writeUInt16BE(len, o); buf.copy(bytes, o + 2, off, off + len); o += 2 + len })
  let events = 0
  const count = (): number => { events++; return 0 }
  const dec = new NativeDecoder({ defineSymbol: () => 0, locateOf: () => 0, quote: count, trade: count, status: count }, new FeedStats('count'))
  for (let p = 0; p < o; p += 2 + bytes.readUInt16BE(p)) dec.decode(bytes, p + 2, bytes.readUInt16BE(p))
  return { bytes: bytes.subarray(0, o), events }
}

/**
 * One run: the capture is held until six clients have subscribed to every symbol (pattern `*`, so symbols
 * defined later are covered from their first event), then replayed as fast as they read. Every client must
 * get every event, in order, and all clients of the run the same bytes.
 */
async function run(workers: number, cap: { bytes: Buffer; events: number }): Promise<Map<string, string>> {
  let release!: () => void
  const hold = new Promise<void>((r) => { release = r })
  const replay = await startReplay({ capture: loadCapture(cap.bytes, 'native'), protocol: 'native', pace: 'fast', sessionId: 'WORKERS', hold })
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--feed', `r=native:tcp://127.0.0.1:${replay.port}`,
    '--workers', String(workers)], {})
  if (cli.kind !== 'run') throw new Error('config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
  running.push(t)
  try {
    const clients = await Promise.all([0, 1, 2, 3, 4, 5].map(() => client(t.url, ['*'])))
    if (t.workers) {
      await t.workers.collect(new WsStats(), new DispatchStats(), new WsStats(), Object.assign(new DispatchStats(), { readSeq: -1 }))
      const per = t.workers.connectionsPerWorker()
      expect(per.reduce((a, b) => a + b, 0), `connections per worker ${per}`).toBe(6)
      for (const n of per) expect(n, `connections per worker ${per}`).toBeGreaterThan(0)
    }
    release()
    await waitFor(() => clients.every((c) => c.events.length >= cap.events), 15_000,
      `every event at every client (${clients.map((c) => c.events.length)} of ${cap.events})`)
    await sleep(100) // nothing more may arrive
    const merged = new Map<string, string>()
    for (const c of clients) {
      expect(c.events.length).toBe(cap.events)
      for (const [k, v] of checkedStream(c.events)) {
        const seen = merged.get(k)
        if (seen !== undefined) expect(v, k).toBe(seen) // every client of this run saw the same event n
        merged.set(k, v)
      }
    }
    return merged
  } finally {
    running.splice(running.indexOf(t), 1)
    await t.stop()
    await replay.stop(0)
  }
}

describe('--workers N fan-out', () => {
  it('delivers exactly the same per-symbol events with 0, 1 and 2 worker threads, contiguous on every client', async () => {
    const cap = capture()
    expect(cap.events).toBeGreaterThan(5000)
    const runs = [await run(0, cap), await run(1, cap), await run(2, cap)]
    expect(runs[0].size).toBe(cap.events)
    expect(runs[1]).toEqual(runs[0])
    expect(runs[2]).toEqual(runs[0])
    expect(SYMBOLS.every((s) => runs[0].has(`${s}:1`))).toBe(true)
  }, 60_000)

  it('stops with workers: every client gets 1001 and /metrics summed all threads before', async () => {
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--sim-rate', '2000', '--workers', '2'], {})
    if (cli.kind !== 'run') throw new Error('config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false, startSimulator: startInProcessSimulator })
    running.push(t)
    const clients = await Promise.all([0, 1, 2, 3].map(() => client(t.url)))
    await waitFor(() => clients.every((c) => c.events.length > 4), 5000, 'events on every client')
    const text = await (await fetch(t.metricsUrl)).text()
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

  it('hands no new connection to a worker that died: every client is still served', async () => {
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--sim-rate', '2000', '--workers', '2'], {})
    if (cli.kind !== 'run') throw new Error('config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false, startSimulator: startInProcessSimulator })
    running.push(t)
    expect(t.workers!.alive).toBe(2)
    // a crash from outside the product: terminate one worker thread as a fatal error in it would
    const slots = (t.workers as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> }).slots
    await slots[0].worker.terminate()
    await sleep(100) // its exit event reaches the main thread
    const clients = await Promise.all(Array.from({ length: 6 }, () => client(t.url))) // round-robin would give 3 to the dead one
    await waitFor(() => clients.every((c) => c.events.length > 2), 5000, 'events on every client')
    expect(t.workers!.alive).toBe(1)
  })

  it('refuses --workers where the ring mirror\'s tear check would not hold (not x86-64), with a clear boot error', () => {
    const make = (): FanoutWorkers => new FanoutWorkers({} as FanoutWorkersOptions, { info: () => {}, warn: () => {} }, 'arm64')
    expect(make).toThrow(bootError('WORKERS_ARCH', '').constructor as new () => Error)
    expect(make).toThrow(/WORKERS_ARCH: --workers needs an x86-64 CPU \(this one is arm64\)/)
  })
})
