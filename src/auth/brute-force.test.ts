// Hostile suite, token brute force: one address throws hundreds of bad tokens (upgrade header and in-band op:auth) while
// a bystander on `*` checks that every symbol's n rises by exactly 1 and a newcomer from another address still gets in.
// Prints its figures: attempts, answers by status, failures counted, audit lines written, the bystander's longest stall.
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'
import { startTickcast } from '../server.js'
import { connect, opened, sha256, tempDir, writeJson } from '../../test-support/auth.js'
import { simulator, stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))
const GOOD = 'bystander-key-000111222', ATTEMPTS = 400, IN_FLIGHT = 20, ATTACK_MS = 6000

describe('token brute force', () => {
  it('counts and rate-limits failures per address; the server stays responsive and a bystander loses nothing', async () => {
    const dir = tempDir(), keysFile = join(dir, 'keys.json')
    writeJson(keysFile, { keys: [{ sha256: sha256(GOOD), principal: 'bystander', symbols: ['*'] }] })
    const sim = await simulator(running, 2000)
    const logs: string[] = []
    const log = pino({ level: 'info' }, { write: (s: string) => { logs.push(s) } })
    const cli = loadConfig(['--port', '0', '--mqtt-url', 'none', '--feed', `sim=native:tcp://127.0.0.1:${sim.port}`, '--auth-api-keys-file', keysFile], {})
    if (cli.kind !== 'run') throw new Error('config')
    const t = await startTickcast(cli.config, log, { processMetrics: false })
    running.push(t)
    await waitFor(() => t.symbols.size >= 30, 5000, 'symbols')

    const by = connect(t.url, GOOD)
    await opened(by)
    by.send({ op: 'subscribe', symbols: ['*'], id: 'b' })
    const last = new Map<string, number>(), breaks: string[] = []
    let lastAt = performance.now(), stall = 0
    by.ws.on('message', (d) => {
      const v = JSON.parse(String(d)) as unknown
      if (!Array.isArray(v)) return
      const now = performance.now(); stall = Math.max(stall, now - lastAt); lastAt = now
      for (const e of v as Array<{ e: string; s: string; n: number }>) {
        const prev = last.get(e.s)
        if (e.e !== 'snap' && prev !== undefined && e.n !== prev + 1) breaks.push(`${e.s} ${prev}→${e.n}`)
        last.set(e.s, e.n)
      }
    })
    await waitFor(() => last.size >= 30, 5000, 'bystander snapshots')
    stall = 0; lastAt = performance.now()

    // the attacker: another loopback address, bad keys on the upgrade and, for every fifth, in-band
    const statuses = new Map<number, number>()
    let sent = 0, done = 0
    const started = Date.now()
    const one = async (i: number): Promise<void> => {
      const bad = `guess-${i}-${Math.random().toString(36).slice(2)}`
      const c = connect(t.url, i % 5 === 0 ? '' : bad, { localAddress: '127.0.0.2' })
      if (i % 5 === 0) { c.ws.once('open', () => c.send({ op: 'auth', token: bad })); const r = await c.closed; statuses.set(r.code, (statuses.get(r.code) ?? 0) + 1) }
      else { const s = await Promise.race([c.refused, c.closed.then(() => 0)]); statuses.set(s, (statuses.get(s) ?? 0) + 1) }
      done++
    }
    const workers = Array.from({ length: IN_FLIGHT }, async () => { while (sent < ATTEMPTS && Date.now() - started < ATTACK_MS) await one(sent++) })
    // a newcomer from 127.0.0.1 during the attack
    const newcomer = connect(t.url, GOOD)
    await opened(newcomer)
    await Promise.all(workers)
    const attackMs = Date.now() - started
    newcomer.ws.close()
    await new Promise((r) => setTimeout(r, 300))
    by.ws.close()

    const m = await (await fetch(t.metricsUrl)).text()
    const failures = (reason: string): number => Number(new RegExp(`tickcast_auth_failures_total\\{reason="${reason}"\\} (\\d+)`).exec(m)?.[1] ?? 0)
    const auditLines = logs.filter((l) => l.includes('"audit":"auth_failure"')).length
    console.log(`token brute force: ${done} attempts in ${attackMs} ms from 127.0.0.2; answers ${JSON.stringify(Object.fromEntries(statuses))}; ` +
      `failures unknown_key=${failures('unknown_key')} rate_limited=${failures('rate_limited')}; audit lines ${auditLines}; bystander longest stall ${stall.toFixed(1)} ms, sequence breaks ${breaks.length}`)
    expect(done).toBe(sent)
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0) // refused without verifying once over the burst
    expect(failures('unknown_key') + failures('rate_limited')).toBeGreaterThanOrEqual(done - (statuses.get(4401) ?? 0))
    expect(failures('unknown_key')).toBeLessThan(done / 2) // most attempts never reached verification
    expect(auditLines).toBeLessThanOrEqual(40 + 20 * Math.ceil(attackMs / 1000)) // rate-limited: burst + 20/s
    expect(breaks).toEqual([])
    expect(logs.join('')).not.toContain('guess-')
  }, 30_000)
})
