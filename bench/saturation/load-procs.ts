// Owns the parent side of the saturation load processes: fork, IPC calls bounded in time, fan the clients out.
// Must never let a silent worker hang the run: every call has a deadline and a failure is an answer, not a crash.
import { execFile, fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stop, track } from '../lib/procs.js'
import type { ConnectReport, WireKind, WorkerCommand, WorkerReport } from './load-worker.js'

const here = fileURLToPath(new URL('.', import.meta.url))

/**
 * callgrind: a file prefix; each load process then runs under valgrind's callgrind with instrumentation off until
 * `instrument(true)` (load-cost.ts counts the measured turns only). Valgrind runs node in its own process, so the pid,
 * the IPC channel (an inherited fd) and process.cpuUsage() stay as they are; only everything is ~50× slower.
 */
export interface LoadGroupOptions {
  callgrind?: string
  /** node flags for the load processes (e.g. --cpu-prof --cpu-prof-dir=/tmp/p: where their time goes, by JS function) */
  nodeArgs?: string[]
}

class LoadProc {
  readonly child: ChildProcess
  private waiters: Array<{ ok: (m: unknown) => void; fail: (e: Error) => void }> = []
  private exited: Error | null = null
  constructor(k: number, o: LoadGroupOptions) {
    const grind = o.callgrind ? {
      execPath: 'valgrind',
      execArgv: ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${o.callgrind}.${k}`, process.execPath, ...o.nodeArgs ?? []],
    } : o.nodeArgs ? { execArgv: o.nodeArgs } : {}
    this.child = track(fork(join(here, 'load-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...grind }))
    this.child.on('message', (m) => { this.waiters.shift()?.ok(m) })
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`load process exited (${signal ?? code})`)
      for (const w of this.waiters.splice(0)) w.fail(this.exited)
    })
  }
  next<T>(timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.exited) { reject(this.exited); return }
      const timer = setTimeout(() => { reject(new Error(`load process did not answer '${what}' within ${timeoutMs / 1000} s`)) }, timeoutMs)
      this.waiters.push({ ok: (m) => { clearTimeout(timer); resolve(m as T) }, fail: (e) => { clearTimeout(timer); reject(e) } })
    })
  }
  call<T>(cmd: WorkerCommand, timeoutMs: number): Promise<T> {
    const p = this.next<T>(timeoutMs, cmd.cmd)
    if (this.child.connected) this.child.send(cmd)
    return p
  }
}

export interface Connected { connected: number; failed: number; firstError: string }
export interface Endpoint { host: string; port: number; path: string }

/** `procs` forked load processes sharing the clients round-robin. */
export class LoadGroup {
  private readonly procs: LoadProc[]
  constructor(procs: number, private readonly callTimeoutMs: number, private readonly o: LoadGroupOptions = {}) {
    this.procs = Array.from({ length: procs }, (_, k) => new LoadProc(k, o))
  }

  /** under callgrind only: switch instruction counting on or off in every load process (callgrind_control -i) */
  async instrument(on: boolean): Promise<void> {
    if (!this.o.callgrind) return
    await Promise.all(this.procs.map((p) => new Promise<void>((resolve) => {
      execFile('callgrind_control', ['-i', on ? 'on' : 'off', String(p.child.pid)], () => resolve())
    })))
  }

  async ready(): Promise<void> { await Promise.all(this.procs.map((p) => p.next(this.o.callgrind ? 200_000 : 20_000, 'ready'))) }

  async connect(wire: WireKind, at: Endpoint, names: string[], clients: string[][], timeoutMs: number): Promise<Connected> {
    const per: string[][][] = this.procs.map(() => [])
    clients.forEach((c, k) => per[k % this.procs.length].push(c))
    const reps = await Promise.all(this.procs.map((p, k) => p.call<ConnectReport>({ cmd: 'connect', wire, ...at, names, clients: per[k], timeoutMs }, timeoutMs + this.callTimeoutMs)))
    return { connected: reps.reduce((s, r) => s + r.n, 0), failed: reps.reduce((s, r) => s + r.failed, 0), firstError: reps.find((r) => r.firstError)?.firstError ?? '' }
  }

  /** zeroes every counter; resolves with the load processes' CPU seconds so far (user + system) */
  async reset(): Promise<number> { return (await this.resetCpu()).cpuSec }
  /** the same, with the user part apart */
  async resetCpu(): Promise<{ cpuSec: number; cpuUserSec: number }> {
    const reps = await Promise.all(this.procs.map((p) => p.call<{ cpuSec: number; cpuUserSec: number }>({ cmd: 'reset' }, this.callTimeoutMs)))
    return { cpuSec: reps.reduce((s, r) => s + r.cpuSec, 0), cpuUserSec: reps.reduce((s, r) => s + r.cpuUserSec, 0) }
  }
  /** updates received since the reset, summed: a poll that costs the load processes nearly nothing */
  async updates(): Promise<number> {
    const reps = await Promise.all(this.procs.map((p) => p.call<{ updates: number }>({ cmd: 'updates' }, this.callTimeoutMs)))
    return reps.reduce((s, r) => s + r.updates, 0)
  }
  report(): Promise<WorkerReport[]> { return Promise.all(this.procs.map((p) => p.call<WorkerReport>({ cmd: 'report' }, this.callTimeoutMs))) }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => { if (p.child.connected) p.child.send({ cmd: 'close' }); return stop(p.child) }))
  }
}
