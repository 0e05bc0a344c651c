// Owns how the container test calls podman here: the runtime (runc) and the rlimits this sandbox lets a container have.
// Must never touch images or containers it was not given by name (no prune, no `rm --all`): the storage is the machine's.
import { spawn, spawnSync } from 'node:child_process'

/** The sandbox's hard descriptor limit: podman's default (1048576) is above it and runc then fails to start. */
function hardNofile(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' })
  const n = Number(r.stdout.trim())
  return Number.isInteger(n) && n > 0 ? Math.min(n, 65536) : 1024
}

/** runc: Debian 12's default crun cannot start containers in this sandbox. */
export const PODMAN = ['podman', '--runtime', 'runc'] as const
/** For `build` and `run`: every container (RUN steps too) gets limits the sandbox allows. */
export const ULIMITS = [`--ulimit=nofile=${hardNofile()}:${hardNofile()}`, '--ulimit=nproc=1000:1000'] as const

export function available(): boolean {
  return spawnSync('podman', ['--version']).status === 0 && spawnSync('mmdebstrap', ['--version']).status === 0
}

export interface Run { code: number | null; out: string; err: string; ms: number }

/** Runs `podman <args>` (or another command) to completion within `timeoutMs`; never throws on a non-zero exit. */
export function run(args: readonly string[], timeoutMs: number, cmd: readonly string[] = PODMAN, cwd?: string): Promise<Run> {
  const t0 = Date.now()
  return new Promise((resolve) => {
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    child.stdout.on('data', (d) => { out += d }); child.stderr.on('data', (d) => { err += d })
    const timer = setTimeout(() => { err += `\n(timed out after ${timeoutMs} ms)`; child.kill('SIGKILL') }, timeoutMs)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err, ms: Date.now() - t0 }) })
  })
}

/** Like `run`, but a non-zero exit is an error carrying podman's output. */
export async function must(args: readonly string[], timeoutMs: number, cmd: readonly string[] = PODMAN, cwd?: string): Promise<Run> {
  const r = await run(args, timeoutMs, cmd, cwd)
  if (r.code !== 0) throw new Error(`${[...cmd, ...args].join(' ')} exited ${r.code}\n${r.out.slice(-4000)}\n${r.err.slice(-4000)}`)
  return r
}
