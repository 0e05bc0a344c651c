// Owns a real three-node NATS JetStream cluster for tests: loopback client and route ports, store dirs in a temp dir,
// each node killable and restartable on its ports. Must never leave a process, port or dir behind: stop() frees all.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, killOnExit } from './processes.js'

export const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'
const READY_TIMEOUT_MS = 15_000
const EXIT_TIMEOUT_MS = 5000

export interface NatsNode {
  readonly port: number
  /** nats://127.0.0.1:<port> */
  readonly url: string
  readonly running: boolean
  /** SIGKILL and wait for the exit */
  kill(): Promise<void>
  /** starts it again on the same ports and store dir */
  start(): Promise<void>
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[]
  /** every node's url, comma-separated (what --bus / --source take) */
  readonly urls: string
  log(): string
  /** resolves when the JetStream meta group has a leader (the cluster can create streams) */
  metaLeader(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/** True when the nats-server binary exists here. In CI a missing binary is a failure, not a skip (see tests). */
/**
 * JetStream API requests of the tests (stream info, purge, reads): 20 s, not nats.js's 5 s, which a three-node
 * cluster on a loaded CI machine once exceeded (bus-publish TIMEOUT).
 */
export const TEST_JSM = { timeout: 20_000 }

export function natsAvailable(): boolean { return existsSync(NATS_BIN) }

async function healthy(monitorPort: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`)
    if (r.status !== 200) return false
    const j = await fetch(`http://127.0.0.1:${monitorPort}/jsz`).then((x) => x.json()) as { meta_cluster?: { leader?: string } }
    return typeof j.meta_cluster?.leader === 'string' && j.meta_cluster.leader !== ''
  } catch { return false }
}

export interface NatsClusterOptions {
  /**
   * Servers tell clients no other node's URL (cluster no_advertise): a client reaches only the URLs it was given, so a
   * test can cut it off behind a proxy (with advertising on, nats.js reconnects straight to a discovered node).
   */
  noAdvertise?: boolean
}

/** Starts the cluster; a start that fails (a port taken between picking and binding) is retried on fresh ports. */
export async function startNatsCluster(size = 3, opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try { return await startOnce(size, opts) } catch (e) { if (attempt === START_ATTEMPTS) throw e }
  }
}
const START_ATTEMPTS = 3

async function startOnce(size: number, opts: NatsClusterOptions): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-nats-'))
  const ports: Array<{ client: number; route: number; monitor: number }> = []
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() })
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`)
  let logText = ''
  const children: Array<ChildProcess | null> = ports.map(() => null)

  const confOf = (i: number): string => {
    const p = ports[i], store = join(dir, `n${i}`)
    mkdirSync(store, { recursive: true })
    const conf = join(dir, `n${i}.conf`)
    writeFileSync(conf, [
      `server_name: n${i}`, 'listen: 127.0.0.1:' + p.client, 'http: 127.0.0.1:' + p.monitor,
      `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 512MB }`,
      `cluster { name: tickcast-test, listen: 127.0.0.1:${p.route}, routes: [${routes.filter((_, k) => k !== i).join(', ')}]${opts.noAdvertise === true ? ', no_advertise: true' : ''} }`,
      '',
    ].join('\n'))
    return conf
  }
  const confs = ports.map((_, i) => confOf(i))

  const launch = (i: number): void => {
    const c = spawn(NATS_BIN, ['-c', confs[i]], { stdio: ['ignore', 'ignore', 'pipe'] })
    children[i] = c; killOnExit(c)
    c.stderr?.setEncoding('utf8')
    c.stderr?.on('data', (d: string) => { if (logText.length < 256 * 1024) logText += `[n${i}] ${d}` })
    c.once('exit', () => { if (children[i] === c) children[i] = null })
    c.once('error', (e) => { logText += `[n${i}] ${String(e)}\n` })
  }
  const kill = async (i: number): Promise<void> => {
    const c = children[i]
    if (c === null) return
    const gone = new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return }
      const t = setTimeout(resolve, EXIT_TIMEOUT_MS)
      c.once('exit', () => { clearTimeout(t); resolve() })
    })
    c.kill('SIGKILL')
    await gone
    children[i] = null
  }
  const waitReady = async (idx: readonly number[], timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const ok = await Promise.all(idx.map((i) => children[i] !== null && healthy(ports[i].monitor)))
      if (ok.every(Boolean)) return
      if (Date.now() > deadline) throw new Error(`nats cluster not ready after ${timeoutMs} ms: ${logText.slice(-4000)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  ports.forEach((_, i) => launch(i))
  const all = ports.map((_, i) => i)
  try { await waitReady(all, READY_TIMEOUT_MS) } catch (e) { for (const i of all) await kill(i); rmSync(dir, { recursive: true, force: true }); throw e }

  const nodes: NatsNode[] = ports.map((p, i) => ({
    port: p.client,
    url: `nats://127.0.0.1:${p.client}`,
    get running() { return children[i] !== null },
    kill: () => kill(i),
    async start() { await kill(i); launch(i); await waitReady([i], READY_TIMEOUT_MS) },
  }))
  let stopped = false
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    log: () => logText,
    metaLeader: (timeoutMs = READY_TIMEOUT_MS) => waitReady(all.filter((i) => children[i] !== null), timeoutMs),
    async stop() {
      if (stopped) return
      stopped = true
      await Promise.all(all.map((i) => kill(i)))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
