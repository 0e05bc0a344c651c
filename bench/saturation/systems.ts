// Owns starting each system the saturation benchmark compares, on loopback, fed by the simulator at feedPort.
// Must never give one system a different feed or batching than stated: each row's name says what it does.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, spawnReady, stop, track, waitPort } from '../lib/procs.js'
import type { WireKind } from './load-worker.js'

/**
 * tickcast: the server as shipped (one frame per symbol per turn per connection).
 * nats-batched: nats-server's WebSocket listener, the publisher sending one message per symbol per turn (the same batching).
 * nats: the same, one message per event.
 * naive: the `ws` package, JSON.stringify per message per client.
 * bare-uws: uWebSockets.js accepting connections and nothing else (idle-memory floor only).
 */
export type SystemName = 'tickcast' | 'nats-batched' | 'nats' | 'naive' | 'bare-uws'
export const LOAD_SYSTEMS: readonly SystemName[] = ['tickcast', 'nats-batched', 'nats', 'naive']
export const WIRE: Record<SystemName, WireKind> = { tickcast: 'tickcast', 'nats-batched': 'nats', nats: 'nats', naive: 'naive', 'bare-uws': 'bare' }
/** read at each start, so a caller (a test) can point it elsewhere */
export const natsBin = (): string => process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'

export interface RunningSystem {
  name: SystemName
  /** every process whose CPU and RSS count as the server's (nats: nats-server and its publisher) */
  pids: number[]
  host: string; port: number; path: string
  /** full garbage collection in the server process, where it runs under gc-host (tickcast, naive, bare-uws) */
  gc(): Promise<void>
  stop(): Promise<void>
}

const here = fileURLToPath(new URL('.', import.meta.url))
const dist = (p: string): string => join(here, '..', '..', p)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** node --expose-gc gc-host.js <entry> args: SIGUSR2 collects garbage (gc-host.ts) */
async function gcHosted(name: SystemName, entry: string, args: string[], ready: RegExp): Promise<RunningSystem> {
  const { child, match } = await spawnReady(process.execPath, ['--expose-gc', join(here, 'gc-host.js'), dist(entry), ...args], ready)
  return {
    name, pids: [child.pid!], host: '127.0.0.1', port: Number(match[1]), path: name === 'naive' || name === 'tickcast' ? '/v1/stream' : '/',
    gc: async () => { child.kill('SIGUSR2'); await sleep(150) },
    stop: () => stop(child),
  }
}

export async function startSystem(name: SystemName, feedPort: number, tickcastArgs: string[] = []): Promise<RunningSystem> {
  const feed = `sim=native:tcp://127.0.0.1:${feedPort}`
  switch (name) {
    case 'tickcast':
      // every load client comes from 127.0.0.1: the per-address caps (1,000 connections, 100 upgrades/s) are lifted
      return gcHosted(name, 'src/main.js', ['--port', '0', '--mqtt-url', 'none', '--log-level', 'warn', '--feed', feed,
        '--max-connections-per-ip', '0', '--upgrades-per-ip-per-sec', '0', ...tickcastArgs], /ws:\/\/127\.0\.0\.1:(\d+)\/v1\/stream/)
    case 'naive':
      return gcHosted(name, 'bench/baselines/naive-ws-server.js', ['--port', '0', '--feed-port', String(feedPort)], /"port":(\d+)/)
    case 'bare-uws':
      return gcHosted(name, 'bench/saturation/bare-uws.js', ['--port', '0'], /"port":(\d+)/)
    case 'nats':
    case 'nats-batched':
      return startNats(name, feedPort)
  }
}

async function startNats(name: SystemName, feedPort: number): Promise<RunningSystem> {
  const bin = natsBin()
  if (!existsSync(bin)) throw new Error(`nats-server not found at ${bin} (apt-get install nats-server, or set NATS_SERVER_BIN)`)
  const natsPort = await freePort(), wsPort = await freePort()
  const conf = join(tmpdir(), `tickcast-saturation-nats-${process.pid}-${natsPort}.conf`)
  // max_pending high: nats-server would otherwise cut slow WebSocket clients before the latency bound shows it
  writeFileSync(conf, `listen: 127.0.0.1:${natsPort}\nmax_pending: 67108864\nwebsocket { host: 127.0.0.1, port: ${wsPort}, no_tls: true }\n`)
  const nats: ChildProcess = track(spawn(bin, ['-c', conf], { stdio: 'ignore' }))
  try {
    await waitPort(natsPort); await waitPort(wsPort)
    const { child: pub } = await spawnReady(process.execPath, [dist('bench/baselines/nats-publisher.js'), '--nats-port', String(natsPort),
      '--feed-port', String(feedPort), ...(name === 'nats-batched' ? ['--batch'] : [])], /listening/)
    return {
      name, pids: [nats.pid!, pub.pid!], host: '127.0.0.1', port: wsPort, path: '/',
      gc: () => Promise.resolve(),
      stop: async () => { await stop(pub); await stop(nats) },
    }
  } catch (e) { await stop(nats); throw e }
}
