import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, OPTIONS } from './config.js'
import type { Config } from './config.js'

function run(argv: string[], env: Record<string, string> = {}): Config {
  const r = loadConfig(argv, env)
  if (r.kind !== 'run') throw new Error(`expected a run config, got ${r.kind}`)
  return r.config
}

function problemsOf(argv: string[], env: Record<string, string> = {}): ConfigError {
  try { loadConfig(argv, env) } catch (e) { if (e instanceof ConfigError) return e; throw e }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('has a default for every option and returns a frozen object', () => {
    const c = run([])
    expect(Object.isFrozen(c)).toBe(true)
    expect(c.port).toBe(8080)
    expect(c.feeds).toEqual([])
    expect(c.ringCapacity).toBe(1048576)
    expect(c.mqttNodeId).toMatch(/^tickcast-/)
  })

  it('takes flags over env over file over defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-config-'))
    const file = join(dir, 'c.json')
    writeFileSync(file, JSON.stringify({ port: 7000, 'sim-rate': 5, 'log-level': 'warn' }))
    const c = run(['--config', file, '--port', '9000'], { TICKCAST_SIM_RATE: '6' })
    expect([c.port, c.simRate, c.logLevel]).toEqual([9000, 6, 'warn'])
  })

  it('puts /metrics on a port of its own: --port + 1 by default, ephemeral with --port 0, never the client port', () => {
    expect([run([]).metricsHost, run([]).metricsPort]).toEqual(['127.0.0.1', 8081])
    expect(run(['--port', '0']).metricsPort).toBe(0)
    expect(run(['--port', '9000', '--metrics-port', '9464', '--metrics-host', '0.0.0.0'])).toMatchObject({ port: 9000, metricsPort: 9464, metricsHost: '0.0.0.0' })
    expect(run(['--port', '0', '--metrics-port', '0']).metricsPort).toBe(0)
    expect(problemsOf(['--port', '9000', '--metrics-port', '9000']).problems.join()).toMatch(/is the client port/)
    expect(problemsOf(['--port', '65535']).problems.join()).toMatch(/--metrics-port: --port 65535 \+ 1 is not a port/)
  })

  it('parses repeatable feeds with credentials, A/B lines, session and start sequence', () => {
    const c = run(['--feed', 'nq=itch:tcp://ab:secret@10.0.0.1:7001,tcp://10.0.0.2:7001?session=S1&seq=42', '--feed', 'sim=tcp://127.0.0.1:7002'])
    expect(c.feeds).toEqual([
      { name: 'nq', protocol: 'itch', lines: [{ host: '10.0.0.1', port: 7001 }, { host: '10.0.0.2', port: 7001 }], username: 'ab', password: 'secret', session: 'S1', startSeq: 42 },
      { name: 'sim', protocol: 'native', lines: [{ host: '127.0.0.1', port: 7002 }], username: '', password: '', session: '', startSeq: 1 },
    ])
  })

  it('takes a recording file and an ITCH session date per feed, and rejects unknown feed parameters', () => {
    const c = run(['--feed', 'nq=itch:tcp://h:1?record=/tmp/nq.cap&date=2024-01-31'])
    expect(c.feeds[0]).toMatchObject({ record: '/tmp/nq.cap', sessionDate: '2024-01-31' })
    expect(problemsOf(['--feed', 'nq=itch:tcp://h:1?date=31.1.2024&colour=red']).problems).toHaveLength(2)
  })

  it('takes a GLIMPSE endpoint (with its own credentials or the feed\'s) on ITCH and native feeds only', () => {
    const c = run(['--feed', 'nq=itch:tcp://u:p@h:1?glimpse=tcp://g:2', '--feed', 'nq2=itch:tcp://h:1?glimpse=tcp://gu:gp@g:3',
      '--feed', 'sim=native:tcp://h:1?glimpse=tcp://g:4'])
    expect(c.feeds[0].glimpse).toEqual({ host: 'g', port: 2 })
    expect(c.feeds[1].glimpse).toEqual({ host: 'g', port: 3, username: 'gu', password: 'gp' })
    expect(c.feeds[2].glimpse).toEqual({ host: 'g', port: 4 })
    expect(problemsOf(['--feed', 'iex=tops:tcp://h:1?glimpse=tcp://g:2']).problems[0]).toMatch(/glimpse= needs protocol itch/)
    expect(problemsOf(['--feed', 'nq=itch:tcp://h:1?glimpse=g:2']).problems[0]).toMatch(/glimpse must be tcp:\/\/host:port/)
  })

  it('takes at most 255 feeds (a symbol\'s owning feed is one byte)', () => {
    const feeds = (n: number): string[] => Array.from({ length: n }, (_, k) => ['--feed', `f${k}=native:tcp://h:${k + 1}`]).flat()
    expect(run(feeds(255)).feeds).toHaveLength(255)
    expect(problemsOf(feeds(256)).problems).toEqual(['--feed: at most 255 feeds, got 256'])
  })

  it('reports every bad value at once, naming each key', () => {
    const e = problemsOf(['--port', '70000', '--ring-capacity', '3000', '--feed', 'x=ftp://h:1', '--mqtt-url', 'http://b', '--log-level', 'loud'],
      { TICKCAST_SIM_RATE: 'fast' })
    expect(e.usage).toBe(false)
    const text = e.problems.join('\n')
    for (const key of ['--port', '--ring-capacity', '--feed', '--mqtt-url', '--log-level', 'TICKCAST_SIM_RATE']) expect(text).toContain(key)
    expect(e.problems.length).toBe(6)
  })

  it('treats an unknown flag as a usage error', () => {
    expect(problemsOf(['--no-such-flag']).usage).toBe(true)
  })

  it('rejects the literal null origin and duplicate feed names', () => {
    const e = problemsOf(['--allowed-origins', 'null,https://ok.example', '--feed', 'a=tcp://h:1', '--feed', 'a=tcp://h:2'])
    expect(e.problems).toHaveLength(2)
  })

  it('prints help listing every option with its env var and default', () => {
    const r = loadConfig(['--help'], {})
    expect(r.kind).toBe('help')
    if (r.kind === 'help') for (const o of OPTIONS) { expect(r.text).toContain(`--${o.flag}`); expect(r.text).toContain(o.env) }
  })

  it('takes --workers 0..16 (default 0 = fan out on the main thread) from flag or env', () => {
    expect(run([]).workers).toBe(0)
    expect(run(['--workers', '2']).workers).toBe(2)
    expect(run([], { TICKCAST_WORKERS: '16' }).workers).toBe(16)
    for (const bad of ['17', '-1', '1.5', 'two']) expect(problemsOf(['--workers', bad]).problems.join('\n')).toContain('--workers')
  })
})
