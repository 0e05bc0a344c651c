// JWT authentication against a real server: HS256, RS256, ES256, EdDSA; expired, wrong audience, not yet valid; a JWKS
// served by a loopback HTTP server and rotated; the non-loopback boot refusal; in-band op:auth, its deadline and expiry.
import { Ajv } from 'ajv'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { startTickcast } from '../server.js'
import { connect, hsSigner, opened, signer, tempDir, writeJson } from '../../test-support/auth.js'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))
const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const AUD = ['--auth-jwt-issuer', 'https://idp.test', '--auth-jwt-audience', 'tickcast']
const ajv = new Ajv({ strict: false, allErrors: true })
ajv.addSchema(JSON.parse(readFileSync(new URL('../../asyncapi.json', import.meta.url), 'utf8')) as object, 'asyncapi')
/** The contract's verdict on one reply (asyncapi.json components/schemas). */
function contract(schema: string, value: unknown): string {
  const v = ajv.getSchema('asyncapi#/components/schemas/' + schema)!
  return v(value) ? 'ok' : ajv.errorsText(v.errors)
}
const CLAIMS = { sub: 'alice', iss: 'https://idp.test', aud: 'tickcast', symbols: ['AAPL', 'MS*'] }

async function subscribeAck(url: string, token: string): Promise<Record<string, unknown>> {
  const c = connect(url, token)
  await opened(c)
  c.send({ op: 'subscribe', symbols: ['AAPL'], id: 's1' })
  // 10 s: the server runs in this test process, which shares two cores with the rest of the suite
  let closed = ''
  void c.closed.then((x) => { closed = ` (closed ${x.code} ${x.reason})` })
  await waitFor(() => c.control.some((m) => m.id === 's1') || closed !== '', 10_000, 'subscribe reply')
  expect(c.control.find((m) => m.id === 's1'), `no subscribe reply${closed}; control: ${JSON.stringify(c.control)}`).toBeDefined()
  c.ws.close()
  return c.control.find((m) => m.id === 's1')!
}

describe('JWT authentication', () => {
  it('accepts HS256 (secret file) and RS256, ES256, EdDSA (JWKS file) tokens on the upgrade', async () => {
    const dir = tempDir(), secretFile = join(dir, 'secret'), jwksFile = join(dir, 'jwks.json')
    writeFileSync(secretFile, SECRET + '\n')
    const signers = [await signer('RS256', 'r1'), await signer('ES256', 'e1'), await signer('EdDSA', 'd1')]
    writeJson(jwksFile, { keys: signers.map((s) => s.jwk) })
    const sim = await simulator(running, 500)
    const t = await tickcast(running, sim.port, {}, ['--auth-jwt-secret-file', secretFile, '--auth-jwks-file', jwksFile, ...AUD])
    for (const s of [hsSigner(SECRET), ...signers]) {
      expect(await subscribeAck(t.url, await s.sign(CLAIMS)), s.alg).toMatchObject({ type: 'subscribed', symbols: ['AAPL'] })
    }
    // a token signed by a key the server does not know, an expired one, the wrong audience, not yet valid: 401 on the upgrade
    const stranger = await signer('RS256', 'r1')
    const bad = [
      await stranger.sign(CLAIMS), await signers[0].sign(CLAIMS, -120), await signers[1].sign({ ...CLAIMS, aud: 'other' }),
      await signers[2].sign({ ...CLAIMS, nbf: Math.floor(Date.now() / 1000) + 600 }), await hsSigner(SECRET + 'x').sign(CLAIMS), 'not-a-token',
    ]
    for (const token of bad) expect(await connect(t.url, token).refused).toBe(401)
    const m = await (await fetch(t.metricsUrl)).text()
    for (const reason of ['invalid', 'expired', 'claims']) expect(m).toMatch(new RegExp(`tickcast_auth_failures_total\\{reason="${reason}"\\} [1-9]`))
    for (const token of bad) expect(m).not.toContain(token)
  })

  it('follows a rotated JWKS served over HTTP: a token with the new kid verifies after the server refetches', async () => {
    const k1 = await signer('ES256', 'k1'), k2 = await signer('ES256', 'k2')
    let keys = [k1.jwk], fetches = 0
    const idp: Server = createServer((_req, res) => { fetches++; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys })) })
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r))
    running.push({ stop: () => new Promise((r) => idp.close(r)) })
    const url = `http://127.0.0.1:${(idp.address() as { port: number }).port}/jwks.json`
    const sim = await simulator(running, 500)
    const t = await tickcast(running, sim.port, {}, ['--auth-jwks-url', url, ...AUD])
    expect(await subscribeAck(t.url, await k1.sign(CLAIMS))).toMatchObject({ type: 'subscribed' })
    expect(await subscribeAck(t.url, await k1.sign(CLAIMS))).toMatchObject({ type: 'subscribed' })
    expect(fetches).toBe(1) // cached
    keys = [k2.jwk] // rotation: k1 retired, k2 in
    await new Promise((r) => setTimeout(r, 1100)) // the refetch cooldown (1 s)
    expect(await subscribeAck(t.url, await k2.sign(CLAIMS))).toMatchObject({ type: 'subscribed' })
    expect(fetches).toBe(2)
  })

  it('refuses to listen on a non-loopback address without auth, unless --allow-anonymous', async () => {
    const sim = await simulator(running, 100)
    const cli = loadConfig(['--host', '0.0.0.0', '--port', '0', '--mqtt-url', 'none', '--log-level', 'silent', '--feed', `sim=native:tcp://127.0.0.1:${sim.port}`], {})
    if (cli.kind !== 'run') throw new Error('config')
    await expect(startTickcast(cli.config, createLogger('silent'), { processMetrics: false })).rejects.toThrow(/AUTH_REQUIRED: listening on 0\.0\.0\.0/)
    const ok = loadConfig(['--host', '0.0.0.0', '--port', '0', '--allow-anonymous', '--mqtt-url', 'none', '--log-level', 'silent', '--feed', `sim=native:tcp://127.0.0.1:${sim.port}`], {})
    if (ok.kind !== 'run') throw new Error('config')
    const t = await startTickcast(ok.config, createLogger('silent'), { processMetrics: false })
    running.push(t)
    expect(t.port).toBeGreaterThan(0)
  })

  it('in-band op:auth: first message within the deadline; anything else first, or silence, closes 4401', async () => {
    const dir = tempDir(), secretFile = join(dir, 'secret')
    writeFileSync(secretFile, SECRET)
    const sim = await simulator(running, 500)
    const t = await tickcast(running, sim.port, {}, ['--auth-jwt-secret-file', secretFile, '--auth-deadline-ms', '500'])
    const good = connect(t.url)
    await opened(good)
    good.send({ op: 'auth', token: await hsSigner(SECRET).sign({ sub: 'bob', symbols: ['*'] }), id: 'a1' })
    await waitFor(() => good.control.length > 0, 5000, 'authenticated')
    expect(good.control[0]).toMatchObject({ type: 'authenticated', id: 'a1', principal: 'bob' })
    good.send({ op: 'subscribe', symbols: ['AAPL'], id: 's1' })
    await waitFor(() => good.events.some((e) => e.s === 'AAPL'), 5000, 'AAPL data')
    const early = connect(t.url)
    await opened(early)
    early.send({ op: 'subscribe', symbols: ['AAPL'] })
    expect(await early.closed).toEqual({ code: 4401, reason: 'authenticate first' })
    expect(early.events).toEqual([])
    const silent = connect(t.url)
    await opened(silent)
    expect(await silent.closed).toEqual({ code: 4401, reason: 'auth deadline' })
    const wrong = connect(t.url)
    await opened(wrong)
    wrong.send({ op: 'auth', token: 'eyJ.bad.token' })
    expect((await wrong.closed).code).toBe(4401)
  })

  it('warns before exp and closes 4402 at exp when the token is not refreshed; a refresh keeps the connection', async () => {
    const dir = tempDir(), secretFile = join(dir, 'secret')
    writeFileSync(secretFile, SECRET)
    const sim = await simulator(running, 500)
    const t = await tickcast(running, sim.port, {}, ['--auth-jwt-secret-file', secretFile, '--auth-expiry-warn-sec', '60', '--auth-clock-skew-sec', '0'])
    const hs = hsSigner(SECRET)
    // signed up front: on a loaded machine the refresh must still land well inside the 4 s lifetime
    const fresh = await hs.sign({ sub: 'carol', symbols: ['*'] }, 600), other = await hs.sign({ sub: 'mallory', symbols: ['*'] }, 600)
    const lazy = connect(t.url, await hs.sign({ sub: 'carol', symbols: ['*'] }, 4)), keen = connect(t.url, await hs.sign({ sub: 'carol', symbols: ['*'] }, 4))
    await Promise.all([opened(lazy), opened(keen)])
    await waitFor(() => keen.control.some((m) => m.type === 'auth_expiring'), 5000, 'auth_expiring')
    keen.send({ op: 'auth', token: fresh, id: 'r1' })
    await waitFor(() => keen.control.some((m) => m.id === 'r1'), 5000, 'refresh reply')
    expect(keen.control.find((m) => m.id === 'r1')).toMatchObject({ type: 'authenticated', principal: 'carol' })
    // another principal's token is no refresh
    keen.send({ op: 'auth', token: other, id: 'r2' })
    await waitFor(() => keen.control.some((m) => m.id === 'r2'), 5000, 'refused refresh')
    expect(keen.control.find((m) => m.id === 'r2')).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' })
    // every auth reply matches the published contract
    for (const m of keen.control) expect(contract({ authenticated: 'Authenticated', auth_expiring: 'AuthExpiring', error: 'Error' }[m.type as string] ?? '?', m)).toBe('ok')
    expect(await lazy.closed).toEqual({ code: 4402, reason: 'token expired' })
    expect(lazy.control.some((m) => m.type === 'auth_expiring')).toBe(true)
    await new Promise((r) => setTimeout(r, 500))
    expect(keen.ws.readyState).toBe(keen.ws.OPEN)
  })
})
