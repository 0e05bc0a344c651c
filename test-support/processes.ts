// Owns what every real-service test helper needs: a free loopback port, and killing its children if the run dies.
// Must never be imported by the server: it exists for tests only.
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

// Ports come from a band per vitest worker below Linux's ephemeral range (32768+): a port the kernel picks for port 0
// or for an outgoing connection can never land there, and two workers never hand out the same one. A port picked with
// port 0 and released could be taken by another worker's service (or a client's source port) before ours binds it:
// that once gave a NATS route port to another cluster's client port and failed CI.
const BAND_FIRST = 10_000, BAND_SIZE = 700, BANDS = Math.floor((32_000 - BAND_FIRST) / BAND_SIZE)
const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? process.pid)
const bandBase = BAND_FIRST + (worker % BANDS) * BAND_SIZE
let nextInBand = Math.floor(Math.random() * BAND_SIZE)

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, host, () => srv.close(() => resolve(true)))
  })
}

/** A free loopback port from this worker's band (the service binds it right after). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let tried = 0; tried < BAND_SIZE; tried++) {
    const port = bandBase + (nextInBand++ % BAND_SIZE)
    if (await canBind(port, host)) return port
  }
  throw new Error(`no free port in ${bandBase}..${bandBase + BAND_SIZE - 1}`)
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

/** Kills `p` with SIGKILL if the test process exits first: a crashed run must not leave services holding ports. */
export function killOnExit(p: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => { for (const c of live) c.kill('SIGKILL') })
  }
  live.add(p)
  p.once('exit', () => live.delete(p))
}
