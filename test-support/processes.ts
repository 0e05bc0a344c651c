// Owns what every real-service test helper needs: a free loopback port, and killing its children if the run dies.
// Must never be imported by the server: it exists for tests only.
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A free loopback port: bind port 0, read it, release it (the service binds it right after). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
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
