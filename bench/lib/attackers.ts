// Owns the hostile bench's attackers, in a process of their own at a lowered priority: pipelined HTTP never read,
// subscribe churn, `*` subscribers, a connection flood. Must never measure anything: bench/hostile.ts does, at nice 0.
//
// Forked by bench/hostile.ts with argv: stream URL, client port, metrics port, nice. IPC in: { start: AttackId } |
// 'stop'; out: 'started' | { stopped: true, note: string } (what the attack did, e.g. the churn's snapshot rate).
import { connect } from 'node:net'
import { setPriority } from 'node:os'
import WebSocket from 'ws'

export type AttackId = 'idle' | 'pipeline-metrics-client' | 'pipeline-metrics-listener' | 'pipeline-asyncapi' | 'churn' | 'subscribers' | 'subscribers-100hz' | 'flood'

const [url, port, metricsPort, nice] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
// Lowered: on a shared machine the attackers' own CPU would otherwise come out of the server's and the bystander's
// share, where a real attacker's runs on its own machine. Their reach is printed per attack (and the server's CPU).
if (nice !== 0) setPriority(nice)

function pipelined(p: number, path: string, requests: number, conns: number): () => string {
  const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(requests))
  const socks = Array.from({ length: conns }, () => { const s = connect(p, '127.0.0.1'); s.pause(); s.on('error', () => {}); s.write(req); return s })
  return () => { for (const s of socks) s.destroy(); return '' }
}

function flood(n: number): () => string {
  const list: WebSocket[] = []
  for (let i = 0; i < n; i++) { const w = new WebSocket(url); w.on('error', () => {}); w.on('unexpected-response', () => {}); list.push(w) }
  return () => { for (const w of list) w.terminate(); return '' }
}

function churn(n: number): () => string {
  let bytes = 0, stop = false
  const list = Array.from({ length: n }, () => {
    const w = new WebSocket(url); let on = false
    w.on('error', () => {}); w.on('message', (d: Buffer) => { bytes += d.length })
    w.on('open', () => { const tick = (): void => { if (stop || w.readyState !== 1) return; w.send(JSON.stringify({ op: on ? 'unsubscribe' : 'subscribe', symbols: ['*'] })); on = !on; setTimeout(tick, 20) }; tick() })
    return w
  })
  const t0 = performance.now()
  return () => { stop = true; for (const w of list) w.terminate(); return `churn pulled ${(bytes / 1e6 / ((performance.now() - t0) / 1000)).toFixed(1)} MB/s of snapshots` }
}

function subscribers(n: number, maxHz: number | null): () => string {
  let bytes = 0
  const list = Array.from({ length: n }, () => {
    const w = new WebSocket(url); w.on('error', () => {}); w.on('message', (d: Buffer) => { bytes += d.length })
    w.on('open', () => w.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], ...(maxHz === null ? {} : { maxHz }) })))
    return w
  })
  const t0 = performance.now()
  return () => { for (const w of list) w.terminate(); return `the ${n} clients read ${(bytes / 1e6 / ((performance.now() - t0) / 1000)).toFixed(1)} MB/s` }
}

const attacks: Record<AttackId, () => () => string> = {
  'idle': () => () => '',
  'pipeline-metrics-client': () => pipelined(port, '/metrics', 5000, 20),
  'pipeline-metrics-listener': () => pipelined(metricsPort, '/metrics', 5000, 20),
  'pipeline-asyncapi': () => pipelined(port, '/asyncapi.json', 6000, 1),
  'churn': () => churn(50),
  'subscribers': () => subscribers(100, null),
  'subscribers-100hz': () => subscribers(100, 100),
  'flood': () => flood(3000),
}

let end: (() => string) | null = null
process.on('message', (m: { start: AttackId } | 'stop') => {
  if (m === 'stop') { const note = end?.() ?? ''; end = null; process.send!({ stopped: true, note }); return }
  end = attacks[m.start]()
  process.send!('started')
})
process.on('disconnect', () => { end?.(); process.exit(0) })
