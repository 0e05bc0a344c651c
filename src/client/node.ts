// Owns the client package's Node entry: the same library, with a clear error when this Node has no WebSocket.
// Must never import a Node built-in or a registry package: the package installs offline and has no dependencies.
import type { TickcastClientOptions } from './client-types.js'
import { TickcastClient as BrowserClient } from './tickcast-client.js'

export * from './tickcast-client.js'

/** Node 22 has a global WebSocket; Node 20 has it behind a flag; any WHATWG-compatible constructor (`ws`) works. */
export const NO_WEBSOCKET_IN_NODE = 'this Node.js has no global WebSocket: use Node 22, run Node 20 with --experimental-websocket, or pass options.WebSocket (e.g. the ws package)'

export class TickcastClient extends BrowserClient {
  constructor(options: TickcastClientOptions) {
    if (!options.WebSocket && !(globalThis as { WebSocket?: unknown }).WebSocket) throw new Error(NO_WEBSOCKET_IN_NODE)
    super(options)
  }
}
