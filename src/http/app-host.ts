// Owns how a uWS app is reached: listening on a port, or as a child app a parent app hands connections to (fan-out
// worker threads). Must never hold routes or WebSocket behaviour: it only opens and closes the ways in.
import * as uWS from 'uWebSockets.js'
import { bootError } from '../errors.js'

/** In the uws-pack binary but missing from its typings (DESIGN.md, known traps): a native app pointer as a double. */
interface ChildApp {
  getDescriptor(): number
  addChildAppDescriptor(d: number): void
  removeChildAppDescriptor(d: number): void
}

export interface Listening { socket: uWS.us_listen_socket; port: number }

/** Listens on host:port (0 = any free port); a false listen token is a boot error. */
export function listenApp(app: uWS.TemplatedApp, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (ls) => {
      if (!ls) { reject(bootError('WS_LISTEN', `cannot listen on ${host}:${port}`)); return }
      resolve({ socket: ls, port: uWS.us_socket_local_port(ls as unknown as uWS.us_socket) })
    })
  })
}

export function closeListening(socket: uWS.us_listen_socket): void { uWS.us_listen_socket_close(socket) }

/** Child side: the descriptor the parent passes to addChildApp, instead of listening. */
export function childAppDescriptor(app: uWS.TemplatedApp): number { return (app as unknown as ChildApp).getDescriptor() }

/** Parent side: from now on, connections this app accepts go to the child apps in turn (none stay here). */
export function addChildApp(app: uWS.TemplatedApp, descriptor: number): void { (app as unknown as ChildApp).addChildAppDescriptor(descriptor) }

/** Parent side, before the child's thread closes its app: new connections must not be handed to it any more. */
export function removeChildApp(app: uWS.TemplatedApp, descriptor: number): void { (app as unknown as ChildApp).removeChildAppDescriptor(descriptor) }
