// A real tickcast process whose address space is capped (ulimit -v), where V8 cannot reserve a WebAssembly memory:
// it says so once at warn with a stable code, and still delivers every quote of its simulated feed in order.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../../test-support/wait-for.js'

const kids: ChildProcess[] = []
const sockets: WebSocket[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.terminate()
  for (const c of kids.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

/** 8 GB: room for node and its heap, not for the ~10 GiB of address space V8 reserves per WebAssembly memory */
const CAP_KB = 8_000_000

describe('frames without WebAssembly', () => {
  it('under ulimit -v: warns ws_frames_without_wasm once and serves merged frames, each symbol in sequence', async () => {
    const child = spawn('bash', ['-c', `ulimit -v ${CAP_KB} && exec "$0" dist/src/main.js --port 0 --mqtt-url none --log-level warn --ws-frame-interval-ms 20`, process.execPath])
    kids.push(child)
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d }); child.stderr.on('data', (d) => { err += d })
    await waitFor(() => /WebSocket\s+ws:\/\/\S+/.test(out), 20_000, `the banner (stderr: ${err})`)
    const warns = out.split('\n').filter((l) => l.includes('ws_frames_without_wasm'))
    expect(warns).toHaveLength(1)
    expect(JSON.parse(warns[0])).toMatchObject({ level: 40, code: 'ws_frames_without_wasm' })

    const url = /WebSocket\s+(ws:\/\/\S+)/.exec(out)![1]
    const ws = new WebSocket(`${url}?format=json`)
    sockets.push(ws)
    const seqs = new Map<string, number[]>()
    let frames = 0
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as unknown
      if (!Array.isArray(m)) return
      frames++
      for (const e of m as Array<{ s: string; n: number }>) (seqs.get(e.s) ?? seqs.set(e.s, []).get(e.s)!).push(e.n)
    })
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j) })
    ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] }))
    await waitFor(() => [...seqs.values()].reduce((s, v) => s + v.length, 0) >= 500, 20_000, 'updates from the simulated feed')
    expect(frames).toBeGreaterThan(0)
    for (const [symbol, ns] of seqs) { // the snapshot, then every update after it: n + 1 each
      const steps = ns.slice(1).map((n, k) => n - ns[k])
      expect({ symbol, gaps: steps.filter((d) => d !== 1) }).toEqual({ symbol, gaps: [] })
    }
  }, 60_000)
})
