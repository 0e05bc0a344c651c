// The front door as a user meets it: `node dist/src/main.js` (compiled by the global setup) and `npm start`'s bundle of it,
// with embedded defaults, its signals, and its exit codes on bad configuration.
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../test-support/wait-for.js'

const MAIN = 'dist/src/main.js'
const children: ChildProcessWithoutNullStreams[] = []
afterEach(() => { for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL') })

function run(args: string[], entry = MAIN): { child: ChildProcessWithoutNullStreams; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [entry, ...args], { env: { ...process.env, TICKCAST_LOG_LEVEL: 'warn' } })
  children.push(child)
  let out = '', err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { child, out: () => out, err: () => err, exited }
}

describe('tickcast process', () => {
  // tools/start.mjs is `npm start`: the same main from its bundle (tools/start-bundle.mjs), worker threads included
  it.each([MAIN, 'tools/start.mjs'])('%s starts with embedded defaults, streams quotes on WebSocket and MQTT within 5 s, and stops cleanly on SIGTERM', async (entry) => {
    const t0 = Date.now()
    const p = run(['--port', '0', '--log-level', 'info'], entry)
    await waitFor(() => /MQTT\s+mqtt:\/\//.test(p.out()), 10_000, `the ready banner (stderr: ${p.err()})`)
    // --ingest-thread auto falls back to the main thread when the worker's module is missing: it must not here
    expect(p.out()).toContain('ingest runs on its own thread')
    const wsUrl = /WebSocket\s+(ws:\/\/\S+)/.exec(p.out())![1]
    const mqttUrl = /MQTT\s+(mqtt:\/\/\S+)/.exec(p.out())![1]
    // what is found next to the compiled modules (the bundle keeps each module's own import.meta.url): the page, the
    // contract, the package version
    const http = /HTTP\s+(http:\/\/\S+)/.exec(p.out())![1], metricsUrl = /Metrics\s+(\S+)/.exec(p.out())![1]
    const page = await fetch(http)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<html')
    expect((await fetch(new URL('/asyncapi.json', http))).status).toBe(200)
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version
    expect(await (await fetch(metricsUrl)).text()).toContain(`version="${version}"`)

    const ws = new WebSocket(wsUrl)
    const events: Array<{ e: string; s: string; n: number }> = []
    let closeCode = 0
    ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (Array.isArray(m)) events.push(...m) })
    ws.on('close', (code) => { closeCode = code })
    await new Promise((r) => ws.once('open', r))
    ws.send(JSON.stringify({ op: 'subscribe', symbols: ['AAPL', 'MSFT', 'NVDA'] }))
    await waitFor(() => events.filter((e) => e.e === 'q').length >= 5, 8000, 'live quotes over WebSocket').catch((e: Error) => { throw new Error(`${e.message}; server stderr: ${p.err()}`) })

    const sub = mqtt.connect(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 })
    const topics = new Set<string>()
    let status = ''
    sub.on('message', (topic, payload) => { if (topic.includes('/status/')) status = payload.toString(); else topics.add(topic) })
    await sub.subscribeAsync(['md/v1/quotes/+', 'md/v1/status/+'])
    // aedes (the embedded broker) delivers the retained status after the 500 retained quotes, interleaved with live ones:
    // measured 3.7 s after the subscribe on this machine, with ingest on its own thread or not
    await waitFor(() => topics.has('md/v1/quotes/AAPL') && status === 'online', 10_000, 'retained quotes and online status over MQTT')
    expect(Date.now() - t0).toBeLessThan(15_000)

    const stopAt = Date.now()
    p.child.kill('SIGTERM')
    expect(await p.exited, `exit code (stderr: ${p.err()})`).toBe(0)
    expect(Date.now() - stopAt, 'shutdown time, ms').toBeLessThan(2500)
    await waitFor(() => closeCode !== 0, 2000, 'the WebSocket close')
    expect(closeCode).toBe(1001)
    sub.end(true)
  })

  it('exits 1 and names every bad value at once', async () => {
    const p = run(['--port', '70000', '--ring-capacity', '3000', '--log-level', 'loud', '--feed', 'x=ftp://h:1'])
    expect(await p.exited).toBe(1)
    for (const key of ['--port', '--ring-capacity', '--log-level', '--feed']) expect(p.err()).toContain(key)
  })

  it('exits 2 on an unknown flag and 0 with --help listing the options', async () => {
    const bad = run(['--frobnicate'])
    expect(await bad.exited).toBe(2)
    expect(bad.err()).toContain('--help')
    const help = run(['--help'])
    expect(await help.exited).toBe(0)
    expect(help.out()).toContain('--mqtt-url')
    expect(help.out()).toContain('TICKCAST_PORT')
  })
})
