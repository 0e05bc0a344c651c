// Secrets given at startup (feed passwords in the URL, a password file, env; the MQTT password in its URL) never
// leave the process: not in stdout (banner, pino logs at debug), stderr, /metrics, nor a configuration error.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll } from '../test-support/harness.js'
import type { Stoppable } from '../test-support/harness.js'
import { mosquittoAvailable, startMosquitto } from '../test-support/mosquitto.js'
import { waitFor } from '../test-support/wait-for.js'
import { loadConfig } from './config.js'

const MAIN = 'dist/src/main.js'
const running: Stoppable[] = []
afterEach(() => stopAll(running))

function runMain(args: string[], env: Record<string, string>): { out: () => string; kill: () => void; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, TICKCAST_LOG_LEVEL: 'debug', ...env } })
  running.push({ stop: async () => { if (child.exitCode === null) child.kill('SIGKILL') } })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { out: () => out, kill: () => child.kill('SIGTERM'), exited }
}

describe('secrets', () => {
  it('takes a feed password from ?password-file= or TICKCAST_FEED_<NAME>_PASSWORD (env wins)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-secret-'))
    writeFileSync(join(dir, 'pw'), 'FileP4ss\n')
    const cli = loadConfig(['--feed', `a=native:tcp://u@127.0.0.1:1?password-file=${join(dir, 'pw')}`, '--feed', 'b-2=native:tcp://u:url@127.0.0.1:2'],
      { TICKCAST_FEED_B_2_PASSWORD: 'EnvP4ss' })
    if (cli.kind !== 'run') throw new Error('expected a run config')
    expect(cli.config.feeds.map((f) => f.password)).toEqual(['FileP4ss', 'EnvP4ss'])
    expect(() => loadConfig(['--feed', 'a=native:tcp://u@127.0.0.1:1?password-file=/nonexistent/pw'], {})).toThrow(/password-file: ENOENT/)
  })

  it('never prints a feed or MQTT password: logs at debug, banner, /metrics, shutdown', async () => {
    if (!(await mosquittoAvailable())) { if (process.env.CI) throw new Error('mosquitto missing in CI'); return }
    const broker = await startMosquitto()
    running.push(broker)
    const [a, b, c] = [await simulator(running, 200), await simulator(running, 200), await simulator(running, 200)]
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-secret-'))
    writeFileSync(join(dir, 'pw'), 'Fil3Secr\n')
    const secrets = ['UrlS3cr', 'Fil3Secr', 'EnvS3cr', 'MqttS3cretPw']
    const p = runMain(['--port', '0',
      '--feed', `a=native:tcp://alice:UrlS3cr@127.0.0.1:${a.port}`,
      '--feed', `b=native:tcp://bob@127.0.0.1:${b.port}?password-file=${join(dir, 'pw')}`,
      '--feed', `c=native:tcp://carol@127.0.0.1:${c.port}`,
      '--mqtt-url', `mqtt://tc:MqttS3cretPw@127.0.0.1:${broker.port}`,
    ], { TICKCAST_FEED_C_PASSWORD: 'EnvS3cr' })
    await waitFor(() => /MQTT\s+mqtt:\/\//.test(p.out()), 15_000, `the ready banner (output: ${p.out().slice(-2000)})`)
    expect(p.out()).toContain('tc:***@') // the banner names the user, masks the password
    const metricsUrl = /Metrics\s+(http:\/\/\S+)/.exec(p.out())?.[1] // the banner names the metrics listener
    expect(metricsUrl, p.out()).toBeTruthy()
    const metrics = await (await fetch(metricsUrl!)).text()
    expect(metrics).toContain('tickcast_')
    p.kill()
    expect(await p.exited).toBe(0)
    for (const s of secrets) {
      expect(p.out(), `output contains ${s}`).not.toContain(s)
      expect(metrics, `/metrics contains ${s}`).not.toContain(s)
    }
  })

  it('does not echo a feed password in a configuration error', async () => {
    const p = runMain(['--feed', 'x=native:tcp://u:Bad5ecret@127.0.0.1:99999'], {})
    expect(await p.exited).toBe(1)
    expect(p.out()).toContain('--feed')
    expect(p.out()).not.toContain('Bad5ecret')
  })
})
