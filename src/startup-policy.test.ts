// Startup with an unreachable feed, on a real process: it starts (feeds retry forever), says it is not ready and why
// in the banner, and logs the refused connects at warn with the backoff state.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../test-support/wait-for.js'

const kids: ChildProcess[] = []
afterEach(() => { for (const c of kids.splice(0)) if (c.exitCode === null) c.kill('SIGKILL') })

describe('startup policy for feeds', () => {
  it('an unreachable feed: banner says not ready with the reason, warn logs show the retries, SIGTERM exits 0', async () => {
    const srv = createServer()
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    const port = (srv.address() as { port: number }).port
    await new Promise((r) => srv.close(r))
    const child = spawn(process.execPath, ['dist/src/main.js', '--port', '0', '--mqtt-url', 'none', '--feed', `x=native:tcp://127.0.0.1:${port}`, '--log-level', 'warn'])
    kids.push(child)
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d }); child.stderr.on('data', (d) => { err += d })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    await waitFor(() => /WebSocket\s+ws:\/\//.test(out), 15_000, `the banner (stderr: ${err})`)
    expect(out).toContain('tickcast started, not ready')
    expect(out).toMatch(/Ready\s+NO: feeds not fresh: x \(\/readyz answers 503/)
    await waitFor(() => out.includes('feed cannot connect'), 5000, `a warn log (stdout: ${out})`)
    const warn = JSON.parse(out.split('\n').find((l) => l.includes('feed cannot connect'))!) as Record<string, unknown>
    expect(warn).toMatchObject({ level: 40, feed: 'x', address: `127.0.0.1:${port}` })
    expect(String(warn.error)).toContain('ECONNREFUSED')
    expect(typeof warn.retryInMs).toBe('number')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 30_000)
})
