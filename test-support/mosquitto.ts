// Owns a real `mosquitto` for tests: a loopback-only broker on a free port, killable and restartable on that port.
// Must never leave a process, a port or a temp dir behind: stop() frees everything, and a process exit kills it.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, killOnExit } from './processes.js'

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? 'mosquitto'
const READY_TIMEOUT_MS = 5000
const EXIT_TIMEOUT_MS = 3000

export interface Mosquitto {
  readonly host: string
  readonly port: number
  /** mqtt://127.0.0.1:<port> */
  readonly url: string
  /** pid of the running broker, or -1 while it is down */
  readonly pid: number
  /** the broker's stderr so far (for failure messages) */
  log(): string
  /** SIGKILL, and wait until the process has exited: no DISCONNECT, no will suppression, no goodbye. */
  kill(): Promise<void>
  /** Starts it again on the same port (kills it first if it is still running); resolves when it accepts TCP. */
  restart(): Promise<void>
  /** Idempotent: kills the broker and removes its temp dir. */
  stop(): Promise<void>
}

export interface MosquittoOptions {
  /** extra config lines appended to the generated config */
  extraConfig?: string
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { s.destroy(); resolve(false) })
  })
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const host = '127.0.0.1'
  const port = await freePort(host)
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    'per_listener_settings false',
    `listener ${port} ${host}`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    opts.extraConfig ?? '',
    '',
  ].join('\n'))

  let child: ChildProcess | null = null
  let stderr = ''
  let stopped = false

  async function launch(): Promise<void> {
    const p = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    child = p; killOnExit(p)
    let exited = false
    p.stderr?.setEncoding('utf8')
    p.stderr?.on('data', (d: string) => { if (stderr.length < 64 * 1024) stderr += d })
    p.once('exit', () => { exited = true; if (child === p) child = null })
    p.once('error', (err) => { stderr += String(err) })
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (exited) throw new Error(`mosquitto exited before listening on ${host}:${port}: ${stderr}`)
      if (await canConnect(host, port)) return
      if (Date.now() > deadline) { p.kill('SIGKILL'); throw new Error(`mosquitto not ready on ${host}:${port} after ${READY_TIMEOUT_MS} ms: ${stderr}`) }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async function kill(): Promise<void> {
    const p = child
    if (p === null) return
    const gone = new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) { resolve(); return }
      const t = setTimeout(resolve, EXIT_TIMEOUT_MS)
      p.once('exit', () => { clearTimeout(t); resolve() })
    })
    p.kill('SIGKILL')
    await gone
    if (child === p) child = null
  }

  await launch()
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    get pid() { return child?.pid ?? -1 },
    log: () => stderr,
    kill,
    async restart() {
      if (stopped) throw new Error('mosquitto helper already stopped')
      await kill()
      await launch()
    },
    async stop() {
      if (stopped) return
      stopped = true
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** True when the mosquitto binary can be spawned here (tests say so loudly when it cannot). */
export function mosquittoAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(MOSQUITTO_BIN, ['-h'], { stdio: 'ignore' })
    p.once('error', () => resolve(false))
    p.once('exit', () => resolve(true))
  })
}

/** mosquitto drops root for its own user: the files it reads (password file, ACL) must be that user's (DESIGN.md, known traps). */
export function forBroker(dir: string): void {
  chmodSync(dir, 0o755)
  if (process.getuid?.() === 0) { try { execFileSync('chown', ['-R', 'mosquitto', dir]) } catch { /* no such user: mosquitto keeps root */ } }
}
