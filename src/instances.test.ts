// Several tickcast processes on one host: two share one mosquitto without taking over each other's MQTT session, a
// second one on a bound port refuses to start (PORT_IN_USE), and a hung broker at SIGTERM still exits 0 in time.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll } from '../test-support/harness.js'
import type { Stoppable } from '../test-support/harness.js'
import { mosquittoAvailable, startMosquitto } from '../test-support/mosquitto.js'
import { freePort } from '../test-support/processes.js'
import { sleep, waitFor } from '../test-support/wait-for.js'

const MAIN = 'dist/src/main.js'
const running: Stoppable[] = []
afterEach(() => stopAll(running))

interface Proc { out: () => string; kill: (sig?: NodeJS.Signals) => void; exited: Promise<number | null> }
function runMain(args: string[]): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, TICKCAST_LOG_LEVEL: 'info' } })
  running.push({ stop: async () => { if (child.exitCode === null) child.kill('SIGKILL') } })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { out: () => out, kill: (sig = 'SIGTERM') => child.kill(sig), exited }
}
const ready = (p: Proc): Promise<void> => waitFor(() => p.out().includes('tickcast ready'), 15_000, `the banner (output: ${p.out().slice(-1500)})`)

describe('instances on one host', () => {
  it('refuses to start on a port another process holds (a plain socket, or another tickcast)', async () => {
    const port = await freePort()
    const holder = createServer().listen(port, '127.0.0.1')
    running.push({ stop: () => new Promise<void>((r) => holder.close(() => r())) })
    await new Promise((r) => holder.once('listening', r))
    const p = runMain(['--port', String(port), '--mqtt-url', 'none'])
    expect(await p.exited).toBe(1)
    expect(p.out()).toMatch(/PORT_IN_USE.*already bound/)
    await new Promise<void>((r) => holder.close(() => r()))

    const sim = await simulator(running, 100)
    const first = runMain(['--port', String(port), '--mqtt-url', 'none', '--feed', `s=native:tcp://127.0.0.1:${sim.port}`])
    await ready(first)
    const second = runMain(['--port', String(port), '--mqtt-url', 'none', '--feed', `s=native:tcp://127.0.0.1:${sim.port}`])
    expect(await second.exited).toBe(1)
    expect(second.out()).toContain('PORT_IN_USE')
    first.kill()
    expect(await first.exited).toBe(0)
  })

  it('two instances share one mosquitto without kicking each other off; a hung broker at SIGTERM still exits 0 in the deadline', async () => {
    if (!(await mosquittoAvailable())) { if (process.env.CI) throw new Error('mosquitto missing in CI'); return }
    const broker = await startMosquitto()
    running.push(broker)
    const sim = await simulator(running, 200)
    const args = ['--port', '0', '--mqtt-url', broker.url, '--feed', `s=native:tcp://127.0.0.1:${sim.port}`]
    const a = runMain(args), b = runMain(args)
    await Promise.all([ready(a), ready(b)])
    await sleep(2500) // a client-id clash shows as a reconnect loop within a second
    for (const p of [a, b]) {
      expect(p.out()).toContain('mqtt connected')
      expect(p.out()).not.toContain('mqtt reconnected')
      expect(p.out()).not.toContain('mqtt disconnected')
    }
    b.kill()
    expect(await b.exited).toBe(0)

    process.kill(broker.pid, 'SIGSTOP') // hung: accepts nothing, answers nothing (no PUBACK for `offline`)
    running.push({ stop: async () => { try { process.kill(broker.pid, 'SIGCONT') } catch { /* gone */ } } })
    const t0 = performance.now()
    a.kill()
    const code = await a.exited
    const ms = performance.now() - t0
    process.kill(broker.pid, 'SIGCONT')
    console.log(`hung broker at SIGTERM: exit ${code} after ${ms.toFixed(0)} ms (deadline 2000 ms)`)
    expect(code, a.out().slice(-1500)).toBe(0)
    expect(ms).toBeLessThan(2500)
  })
})
