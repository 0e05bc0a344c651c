// Owns a scripted stand-in for tickcast's WebSocket endpoint: the test decides every frame the client receives.
// Must never stand in for the real server in an integration test: it exists to deliver what the real one never sends
// (frames lost on the way), so the client library's sequence checks can be tested against them.
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'

export interface FakeTickcast {
  readonly url: string
  /** The next control request a client sent (parsed JSON), in order. */
  nextRequest(timeoutMs?: number): Promise<Record<string, unknown>>
  /** Sends one data frame (a JSON array of events) to every connected client. */
  send(events: unknown[]): void
  close(): Promise<void>
}

export async function startFakeServer(): Promise<FakeTickcast> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const port = (wss.address() as { port: number }).port
  const requests: Array<Record<string, unknown>> = [], waiters: Array<(r: Record<string, unknown>) => void> = []
  const clients = new Set<WebSocket>()
  wss.on('connection', (ws) => {
    clients.add(ws)
    ws.on('close', () => clients.delete(ws))
    ws.on('message', (data) => {
      const req = JSON.parse(String(data)) as Record<string, unknown>
      if (req.op === 'subscribe') ws.send(JSON.stringify({ type: 'subscribed', id: req.id, symbols: req.symbols, patterns: [] }))
      const w = waiters.shift()
      if (w) w(req); else requests.push(req)
    })
  })
  return {
    url: `ws://127.0.0.1:${port}/v1/stream`,
    nextRequest: (timeoutMs = 3000) => {
      const r = requests.shift()
      if (r) return Promise.resolve(r)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no request from the client')), timeoutMs)
        waiters.push((req) => { clearTimeout(t); resolve(req) })
      })
    },
    send: (events) => { for (const c of clients) c.send(JSON.stringify(events)) },
    close: () => new Promise<void>((resolve) => { for (const c of clients) c.terminate(); wss.close(() => resolve()) }),
  }
}
