// Draining on SIGTERM, on a real process (`node dist/src/main.js`): /readyz answers 503 for --drain-ms while HTTP,
// WebSocket streams and new connections keep working, then clients get 1001 and the process exits 0.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { sleep, waitFor } from '../test-support/wait-for.js'

const DRAIN_MS = 1500
const kids: ChildProcess[] = []
afterEach(() => { for (const c of kids.splice(0)) if (c.exitCode === null) c.kill('SIGKILL') })

describe('drain on shutdown', () => {
  it('answers /readyz 503 for --drain-ms while serving, then closes clients with 1001 and exits 0', async () => {
    const child = spawn(process.execPath, ['dist/src/main.js', '--port', '0', '--mqtt-url', 'none', '--sim-symbols', '20', '--sim-rate', '500',
      '--drain-ms', String(DRAIN_MS), '--log-level', 'warn'])
    kids.push(child)
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d }); child.stderr.on('data', (d) => { err += d })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    await waitFor(() => /WebSocket\s+ws:\/\//.test(out), 15_000, `the ready banner (stderr: ${err})`)
    const wsUrl = /WebSocket\s+(ws:\/\/\S+)/.exec(out)![1]
    const http = wsUrl.replace('ws://', 'http://').replace('/v1/stream', '')
    const status = async (path: string): Promise<{ code: number; body: string }> => {
      const r = await fetch(http + path, { signal: AbortSignal.timeout(2000) })
      return { code: r.status, body: await r.text() }
    }
    // ready first (the embedded feed is fresh)
    const readyBy = Date.now() + 10_000
    while ((await status('/readyz')).code !== 200) { if (Date.now() > readyBy) throw new Error(`never ready: ${err}`); await sleep(100) }

    const ws = new WebSocket(wsUrl)
    let frames = 0, closeCode = 0, closedAt = 0
    ws.on('message', () => { frames++ })
    ws.on('close', (code) => { closeCode = code; closedAt = Date.now() })
    await new Promise((r) => ws.once('open', r))
    ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] }))
    await waitFor(() => frames > 5, 5000, 'frames before SIGTERM')

    const termAt = Date.now()
    child.kill('SIGTERM')
    await sleep(200)
    const during: number[] = []
    let framesAtTerm = frames
    let newClientOpened = false
    while (Date.now() - termAt < DRAIN_MS - 400) {
      const r = await status('/readyz')
      during.push(r.code)
      expect(r.body).toContain('draining')
      expect((await status('/v1/symbols')).code).toBe(200)
      if (!newClientOpened) {
        const late = new WebSocket(wsUrl)
        await new Promise<void>((resolve, reject) => { late.once('open', () => resolve()); late.once('error', reject) })
        newClientOpened = true
        late.terminate()
        framesAtTerm = frames
      }
      await sleep(150)
    }
    expect(during.length).toBeGreaterThanOrEqual(3)
    expect(new Set(during)).toEqual(new Set([503]))
    await waitFor(() => frames > framesAtTerm, 2000, 'frames still streaming while draining')
    expect(closeCode).toBe(0) // not closed yet

    expect(await exited, `exit code (stderr: ${err})`).toBe(0)
    await waitFor(() => closeCode !== 0, 2000, 'the WebSocket close')
    expect(closeCode).toBe(1001)
    expect(closedAt - termAt).toBeGreaterThanOrEqual(DRAIN_MS - 50)
  }, 40_000)
})
