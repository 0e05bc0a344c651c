// Owns the idle-memory baseline: a bare uWebSockets.js server that accepts WebSocket connections and, for a
// subscribe request, subscribes the socket to uWS topics of those symbols. Must never hold per-connection state of
// its own: what it costs per connection is uWS's floor, which tickcast's idle connections are compared against.
import * as uWS from 'uWebSockets.js'

const app = uWS.App().ws('/*', {
  idleTimeout: 0,
  message: (ws, data) => {
    let m: { op?: string; symbols?: unknown }
    try { m = JSON.parse(Buffer.from(data).toString()) as typeof m } catch { return }
    if (m.op === 'subscribe' && Array.isArray(m.symbols)) for (const s of m.symbols) ws.subscribe(`md.${String(s)}`)
  },
})
const port = Number(process.argv[process.argv.indexOf('--port') + 1] ?? 0) || 0
app.listen('127.0.0.1', port, (ls) => {
  if (!ls) { process.stderr.write('bare-uws: listen failed\n'); process.exit(1) }
  process.stdout.write(JSON.stringify({ event: 'listening', port: uWS.us_socket_local_port(ls) }) + '\n')
})
process.on('SIGTERM', () => process.exit(0))
