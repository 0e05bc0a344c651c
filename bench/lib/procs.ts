// Owns the bench's child processes: spawn with a readiness line, free ports, /proc CPU and RSS of a pid.
// Must never leave a child running: every spawn is registered and killed by stopAll(), also on errors.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'

const children = new Set<ChildProcess>()
const CLK_TCK = 100

/** Spawns `cmd args` and resolves with the child and the first stdout line matching `ready`. */
export function spawnReady(cmd: string, args: string[], ready: RegExp, timeoutMs = 20_000): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let out = '', err = ''
    const timer = setTimeout(() => { reject(new Error(`${cmd} not ready in ${timeoutMs} ms: ${err.slice(-500)}`)) }, timeoutMs)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = ready.exec(out)
      if (m) { clearTimeout(timer); out = ''; ready = /(?!)/; resolve({ child, match: m }) }
      if (out.length > 65536) out = out.slice(-4096)
    })
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (err.length > 65536) err = err.slice(-4096) })
    child.on('exit', (code) => { children.delete(child); clearTimeout(timer); reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`)) })
  })
}

export function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}

export async function stop(child: ChildProcess | null | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 2000)
  await exited
  clearTimeout(t)
}

export async function stopAll(): Promise<void> { await Promise.all(Array.from(children).map((c) => stop(c))) }

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
    s.on('error', reject)
  })
}

export function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve() })
      s.on('error', () => { s.destroy(); if (Date.now() > until) reject(new Error(`port ${port} not open`)); else setTimeout(attempt, 50) })
    }
    attempt()
  })
}

/** user + system CPU seconds of a process, all threads (/proc/PID/stat fields 14 and 15) */
export function cpuSec(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch { return 0 }
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
    return m ? Number(m[1]) * 1024 : 0
  } catch { return 0 }
}
