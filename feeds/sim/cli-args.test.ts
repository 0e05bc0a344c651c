import { describe, expect, it } from 'vitest'
import { parseSimArgs, USAGE } from './cli-args.js'

describe('parseSimArgs', () => {
  it('reads every documented flag', () => {
    const r = parseSimArgs(['--port', '7002', '--host', '0.0.0.0', '--symbols', '50', '--rate', '0', '--seed', '42',
      '--session', 'SIM0000002', '--duration-sec', '1.5', '--universe', '/tmp/u.csv', '--directory-every-sec', '0', '--recovery-mb', '8', '--stdin-control'])
    expect(r).toEqual({ ok: true, help: false, opts: {
      host: '0.0.0.0', port: 7002, sessionId: 'SIM0000002', symbols: 50, rate: 0, seed: 42, durationSec: 1.5,
      universePath: '/tmp/u.csv', directoryEverySec: 0, recoveryBytes: 8 * 1024 * 1024,
    }, stdinControl: true })
  })

  it('has defaults for everything', () => {
    const r = parseSimArgs([])
    expect(r.ok && r.opts).toMatchObject({ host: '127.0.0.1', port: 7001, sessionId: 'SIM0000001', symbols: 500, rate: 100000, seed: 1, durationSec: 0 })
    expect(r.ok && r.stdinControl).toBe(false)
  })

  it('reports every bad value at once', () => {
    const r = parseSimArgs(['--port', '70000', '--rate=-1', '--symbols', 'x', '--session', 'TOO-LONG-SESSION', '--seed', '1.5'])
    expect(r.ok).toBe(false)
    const errors = r.ok ? [] : r.errors
    expect(errors.map((e) => e.split(':')[0])).toEqual(['--port', '--symbols', '--rate', '--seed', '--session'])
  })

  it('rejects unknown flags and positionals (strict)', () => {
    expect(parseSimArgs(['--bogus']).ok).toBe(false)
    expect(parseSimArgs(['extra']).ok).toBe(false)
  })

  it('--help asks for the usage text, which lists every flag', () => {
    expect(parseSimArgs(['--help'])).toMatchObject({ ok: true, help: true })
    for (const f of ['--host', '--port', '--session', '--symbols', '--rate', '--seed', '--duration-sec', '--universe', '--recovery-mb', '--stdin-control']) expect(USAGE).toContain(f)
  })
})
