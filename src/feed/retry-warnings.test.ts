// A feed line that cannot connect says so: a real SoupClient against a closed loopback port, a real pino logger.
import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { FeedStats } from './feed-stats.js'
import { RetryWarnings } from './retry-warnings.js'
import { SoupClient } from './soup-client.js'

const clients: SoupClient[] = []
afterEach(async () => { for (const c of clients.splice(0)) await c.stop() })

/** A loopback port nothing listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

describe('RetryWarnings', () => {
  it('warns at the first refused connect with the backoff state, then at most once per period', async () => {
    const lines: Array<Record<string, unknown>> = []
    const log = pino({ level: 'warn' }, new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } }))
    const port = await closedPort()
    const sink = { beginBatch: () => undefined, onMessage: () => undefined, endBatch: () => undefined } as never
    const client = new SoupClient({ name: 'x', host: '127.0.0.1', port, username: '', password: '', session: '', startSeq: 1, backoffMinMs: 10, backoffMaxMs: 40 },
      sink, new FeedStats('x'))
    clients.push(client)
    const warnings = new RetryWarnings('x', [client], log, 1000)
    client.start()
    await waitFor(() => client.retryState.attempts >= 1, 5000, 'a failed attempt')
    warnings.check(performance.now())
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 40, feed: 'x', address: `127.0.0.1:${port}`, attempts: expect.any(Number) })
    expect(String(lines[0].error)).toContain('ECONNREFUSED')
    expect(lines[0].retryInMs).toBeGreaterThanOrEqual(0)
    expect(lines[0].retryInMs).toBeLessThanOrEqual(40)

    // many more attempts within the period: no more warnings
    const t0 = performance.now()
    while (performance.now() - t0 < 500) { warnings.check(performance.now()); await sleep(20) }
    expect(client.retryState.attempts).toBeGreaterThan(3)
    expect(lines).toHaveLength(1)
    await sleep(600)
    warnings.check(performance.now())
    expect(lines).toHaveLength(2)
    expect(Number(lines[1].attempts)).toBeGreaterThan(Number(lines[0].attempts))
  })

  it('keeps the last failure while the next attempt is connecting (a warning then still says why)', async () => {
    const port = await closedPort()
    const sink = { beginBatch: () => undefined, onMessage: () => undefined, endBatch: () => undefined } as never
    const client = new SoupClient({ name: 'x', host: '127.0.0.1', port, username: '', password: '', session: '', startSeq: 1, backoffMinMs: 60_000, backoffMaxMs: 60_000 },
      sink, new FeedStats('x'))
    clients.push(client)
    client.start()
    await waitFor(() => client.retryState.attempts === 1, 5000, 'a failed attempt')
    expect(client.retryState.lastFailure).toContain('ECONNREFUSED')
    // the backoff timer firing (fired by hand, its 60 s timer cancelled): a new attempt is in progress, not failed yet
    const inside = client as unknown as { connect(): void; backoffTimer: NodeJS.Timeout | null }
    clearTimeout(inside.backoffTimer ?? undefined)
    inside.connect()
    expect(client.retryState.lastFailure).toContain('ECONNREFUSED')
    await waitFor(() => client.retryState.attempts === 2, 5000, 'the second failure')
    expect(client.retryState.lastFailure).toContain('ECONNREFUSED')
  })
})
