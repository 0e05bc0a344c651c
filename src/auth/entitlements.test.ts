// API keys and entitlements against a real server: direct, pattern and `*` subscriptions, REST, live revocation and
// narrowing through a keys-file reload, a maxHz tier from a roles file, the audit trail, and no secret in logs or /metrics.
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'
import { startTickcast } from '../server.js'
import type { Tickcast } from '../server.js'
import { connect, opened, sha256, tempDir, writeJson } from '../../test-support/auth.js'
import type { Client } from '../../test-support/auth.js'
import { simulator, stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))
const ALICE = 'key-alice-0123456789', BOB = 'key-bob-9876543210', NONPRO = 'key-nonpro-55555'

interface Setup { t: Tickcast; keysFile: string; keys: Array<Record<string, unknown>>; logs: string[] }

async function start(): Promise<Setup> {
  const dir = tempDir(), keysFile = join(dir, 'keys.json'), rolesFile = join(dir, 'roles.json')
  const keys = [
    { sha256: sha256(ALICE), principal: 'alice', symbols: ['AAPL', 'MS*'] },
    { sha256: sha256(BOB), principal: 'bob', roles: ['tech'] },
    { sha256: sha256(NONPRO), principal: 'nina', roles: ['nonpro'], maxConnections: 1 },
  ]
  writeJson(keysFile, { keys })
  writeJson(rolesFile, { roles: { tech: { symbols: ['AMD', 'AMZN', 'NVDA'] }, nonpro: { symbols: ['*'], maxHz: 1 } } })
  const sim = await simulator(running, 2000)
  const logs: string[] = []
  const log = pino({ level: 'info', redact: ['token'] }, { write: (s: string) => { logs.push(s) } })
  const cli = loadConfig(['--port', '0', '--mqtt-url', 'none', '--feed', `sim=native:tcp://127.0.0.1:${sim.port}`, '--auth-api-keys-file', keysFile, '--auth-roles-file', rolesFile], {})
  if (cli.kind !== 'run') throw new Error('config')
  const t = await startTickcast(cli.config, log, { processMetrics: false })
  running.push(t)
  await waitFor(() => t.symbols.size >= 30, 5000, 'symbols learned')
  return { t, keysFile, keys, logs }
}

async function subscribe(c: Client, symbols: string[], id: string): Promise<Record<string, unknown>> {
  c.send({ op: 'subscribe', symbols, id })
  await waitFor(() => c.control.some((m) => m.id === id && m.type !== 'error'), 5000, `reply ${id}`)
  return c.control.find((m) => m.id === id && m.type !== 'error')!
}

const seen = (c: Client): Set<string> => new Set(c.events.map((e) => e.s as string))

describe('entitlements', () => {
  it('direct, pattern and * subscriptions reach only entitled symbols; REST honours the same rules', async () => {
    const { t, logs } = await start()
    const alice = connect(t.url, ALICE), bob = connect(t.url, BOB)
    await Promise.all([opened(alice), opened(bob)])
    const ack = await subscribe(alice, ['AAPL', 'MSFT', 'NVDA', 'A*'], 's1')
    expect(ack).toMatchObject({ symbols: ['AAPL', 'MSFT'], patterns: ['A*'] })
    expect(alice.control.filter((m) => m.code === 'NOT_ENTITLED').map((m) => m.symbol)).toEqual(['NVDA'])
    await subscribe(bob, ['*'], 'b1')
    await new Promise((r) => setTimeout(r, 1500))
    expect([...seen(alice)].every((s) => s === 'AAPL' || s.startsWith('MS'))).toBe(true)
    expect([...seen(bob)].sort()).toEqual(['AMD', 'AMZN', 'NVDA'])
    // REST: same principal, same rules
    const auth = (k: string): RequestInit => ({ headers: { authorization: `Bearer ${k}` } })
    const base = `http://127.0.0.1:${t.port}`
    expect((await fetch(`${base}/v1/snapshot/AAPL`, auth(ALICE))).status).toBe(200)
    const denied = await fetch(`${base}/v1/snapshot/NVDA`, auth(ALICE))
    expect([denied.status, await denied.json()]).toEqual([403, { error: 'NOT_ENTITLED', symbol: 'NVDA' }])
    expect(await (await fetch(`${base}/v1/symbols`, auth(BOB))).json()).toEqual(expect.arrayContaining(['AMD', 'AMZN', 'NVDA']))
    expect((await (await fetch(`${base}/v1/symbols`, auth(BOB))).json() as string[]).length).toBe(3)
    expect((await fetch(`${base}/v1/symbols`)).status).toBe(401)
    expect((await fetch(`${base}/v1/snapshot/AAPL`, auth('wrong-key'))).status).toBe(401)
    expect((await fetch(`${base}/metrics`)).status).toBe(404) // a listener of its own
    const metrics = await (await fetch(t.metricsUrl)).text()
    expect(metrics).toMatch(/tickcast_auth_entitlement_denials_total [2-9]/)
    expect(metrics).toMatch(/tickcast_auth_failures_total\{reason="unknown_key"\} 1/)
    alice.ws.close(); bob.ws.close()
    await waitFor(() => logs.some((l) => l.includes('"audit":"disconnect"')), 3000, 'disconnect audit')
    const text = logs.join('')
    for (const kind of ['connect', 'disconnect', 'auth_failure', 'entitlement_denied']) expect(text).toContain(`"audit":"${kind}"`)
    expect(text).toMatch(/"audit":"connect","ip":"127\.0\.0\.1","principal":"alice"/)
    for (const secret of [ALICE, BOB, 'wrong-key', sha256(ALICE)]) { expect(text).not.toContain(secret); expect(metrics).not.toContain(secret) }
  })

  it('a keys-file reload narrows a live connection and revokes another within 1 s', async () => {
    const { t, keysFile, keys } = await start()
    const alice = connect(t.url, ALICE), bob = connect(t.url, BOB)
    await Promise.all([opened(alice), opened(bob)])
    await subscribe(alice, ['AAPL', 'MS*'], 's1')
    await subscribe(bob, ['*'], 'b1')
    await waitFor(() => seen(alice).has('MSFT') && seen(alice).has('AAPL'), 5000, 'alice data')
    const changedAt = Date.now()
    writeJson(keysFile, { keys: [{ ...keys[0], symbols: ['AAPL'] }, keys[2]] }) // alice loses MS*, bob's key is revoked
    const bobClosed = await bob.closed
    expect(bobClosed).toEqual({ code: 4403, reason: 'revoked' })
    await waitFor(() => alice.control.some((m) => m.code === 'NOT_ENTITLED' && m.symbol === 'MSFT'), 2000, 'MSFT withdrawn')
    expect(Date.now() - changedAt).toBeLessThan(1000 + 200) // 250 ms polling; margin for a loaded machine
    const mark = alice.events.length
    await new Promise((r) => setTimeout(r, 1000))
    const after = alice.events.slice(mark).map((e) => e.s)
    expect(after).toContain('AAPL')
    expect(after.filter((s) => s !== 'AAPL')).toEqual([])
    expect((await connect(t.url, BOB).refused)).toBe(401)
  })

  it('a role with maxHz caps every subscription of its principals; the connection cap refuses a second connection', async () => {
    const { t } = await start()
    const nina = connect(t.url, NONPRO)
    await opened(nina)
    expect(await subscribe(nina, ['*'], 'n1')).toMatchObject({ maxHz: 1 })
    const second = connect(t.url, NONPRO)
    expect(await second.closed).toEqual({ code: 4403, reason: 'connection cap' })
    // per symbol, the data frames that carried it: one throttled delivery is one frame (its update, or the latest
    // quote, trade and status, each with `c`)
    const perSymbol = new Map<string, number>()
    nina.ws.on('message', (d) => {
      const v = JSON.parse(String(d)) as unknown
      if (Array.isArray(v)) for (const s of new Set(v.map((e: Record<string, unknown>) => e.s as string))) perSymbol.set(s, (perSymbol.get(s) ?? 0) + 1)
    })
    await new Promise((r) => setTimeout(r, 2000))
    expect(perSymbol.size).toBeGreaterThan(0)
    expect(Math.max(...perSymbol.values())).toBeLessThanOrEqual(3) // 1/s for 2 s, plus one boundary
  })
})
