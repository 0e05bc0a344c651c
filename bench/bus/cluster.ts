// Owns the NATS JetStream servers bench:bus runs on: N nats-server processes with routes on loopback, store dirs in
// a temp dir. Must never outlive the bench: every process is registered with procs.ts (stopAll kills it), dirs removed.
// (test-support/nats-cluster.ts is the tests' twin; it is not part of the build, so the bench keeps this small copy.)
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, stop, track } from '../lib/procs.js'

export const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'

export interface BenchCluster { urls: string; size: number; traffic(): Promise<Traffic>; stop(): Promise<void> }

/** Cumulative messages and bytes over every node, by kind of peer (from each node's /connz and /routez). */
export interface Traffic {
  /** into the cluster from ingest nodes (connection name tickcast-ingest) */
  ingestMsgs: number; ingestBytes: number
  /** out of the cluster to edges (connection name tickcast-edge) */
  edgeMsgs: number; edgeBytes: number
  /** between NATS nodes (replication, acks, forwarded deliveries), counted once at the sender */
  routeMsgs: number; routeBytes: number
}

interface Conn { name?: string; in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }

async function trafficOf(monitors: number[]): Promise<Traffic> {
  const t: Traffic = { ingestMsgs: 0, ingestBytes: 0, edgeMsgs: 0, edgeBytes: 0, routeMsgs: 0, routeBytes: 0 }
  for (const m of monitors) {
    try {
      const c = await fetch(`http://127.0.0.1:${m}/connz?limit=1024`).then((x) => x.json()) as { connections?: Conn[] }
      for (const x of c.connections ?? []) {
        if (x.name === 'tickcast-ingest') { t.ingestMsgs += x.in_msgs; t.ingestBytes += x.in_bytes }
        if (x.name === 'tickcast-edge') { t.edgeMsgs += x.out_msgs; t.edgeBytes += x.out_bytes }
      }
      const r = await fetch(`http://127.0.0.1:${m}/routez`).then((x) => x.json()) as { routes?: Conn[] }
      for (const x of r.routes ?? []) { t.routeMsgs += x.out_msgs; t.routeBytes += x.out_bytes }
    } catch { /* a node that is down adds nothing */ }
  }
  return t
}

async function ready(monitor: number): Promise<boolean> {
  try {
    if ((await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`)).status !== 200) return false
    const j = await fetch(`http://127.0.0.1:${monitor}/jsz`).then((x) => x.json()) as { meta_cluster?: { leader?: string } }
    return j.meta_cluster === undefined || (j.meta_cluster.leader ?? '') !== '' // a single node has no meta cluster
  } catch { return false }
}

export async function startCluster(size: number, timeoutMs = 30_000): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-nats-'))
  const ports: Array<{ client: number; route: number; monitor: number }> = []
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() })
  const children = ports.map((p, i) => {
    const store = join(dir, `n${i}`), conf = join(dir, `n${i}.conf`)
    mkdirSync(store, { recursive: true })
    const routes = ports.filter((_, k) => k !== i).map((q) => `nats-route://127.0.0.1:${q.route}`)
    writeFileSync(conf, [`server_name: n${i}`, `listen: 127.0.0.1:${p.client}`, `http: 127.0.0.1:${p.monitor}`, 'max_pending: 67108864',
      `jetstream { store_dir: "${store}", max_memory_store: 256MB, max_file_store: 4GB }`,
      size > 1 ? `cluster { name: tickcast-bench, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }` : '', ''].join('\n'))
    return track(spawn(NATS_BIN, ['-c', conf], { stdio: 'ignore' }))
  })
  const stopAllNodes = async (): Promise<void> => { await Promise.all(children.map((c) => stop(c))); rmSync(dir, { recursive: true, force: true }) }
  const deadline = Date.now() + timeoutMs
  while (!(await Promise.all(ports.map((p) => ready(p.monitor)))).every(Boolean)) {
    if (Date.now() > deadline) { await stopAllNodes(); throw new Error(`nats-server ×${size} not ready in ${timeoutMs} ms`) }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { urls: ports.map((p) => `nats://127.0.0.1:${p.client}`).join(','), size, traffic: () => trafficOf(ports.map((p) => p.monitor)), stop: stopAllNodes }
}
