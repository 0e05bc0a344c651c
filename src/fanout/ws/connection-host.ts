// Owns the contract between connections and the server hosting them: the socket they write to, their limits, and
// what they share. Must never hold behaviour: types only, so the connection files and the server import it one way.
import type { WsAuth } from '../../auth/ws-auth.js'
import type { LastValueCache } from '../../cache/last-value-cache.js'
import type { SymbolTable } from '../../model/symbols.js'
import type { RingReplay } from '../../resume/ring-replay.js'
import type { ControlRequest } from '../../subscriptions/protocol.js'
import type { RequestResult, TopicSocket } from '../../subscriptions/registry.js'
import type { CloseReason, WsStats } from '../ws-stats.js'
import type { ControlPacer } from './control-pacer.js'
import type { Hub } from './hub.js'
import type { SnapshotFrames } from './snapshot-frames.js'
import type { ThrottleGroups } from './throttle-groups.js'
import type { LadderLimits } from './writer.js'

/** The part of a uWS WebSocket a connection uses (unit tests pass an in-memory one). */
export interface ConnectionSocket extends TopicSocket {
  send(message: string | Uint8Array, isBinary: boolean, compress: boolean): number
  getBufferedAmount(): number
  end(code: number, shortMessage: string): void
}

export interface ConnectionLimits extends LadderLimits {
  readonly maxControlMessagesPerSec: number
  readonly controlBurst: number
  readonly maxEntriesPerRequest: number
}

export interface ConnectionLog { warn(obj: object, msg: string): void }

/** What connections share with the server around them (one per server; scratch objects are reused per message). */
export interface ConnectionHost {
  readonly hub: Hub
  readonly lvc: LastValueCache
  readonly symbols: SymbolTable
  readonly stats: WsStats
  readonly log: ConnectionLog
  readonly limits: ConnectionLimits
  readonly frames: SnapshotFrames
  readonly req: ControlRequest
  readonly result: RequestResult
  /** authentication and entitlements (src/auth); absent in unit tests: every connection is anonymous and sees everything */
  readonly auth?: WsAuth
  /** throttled `*` subscribers sharing one throttle per rate; absent in unit tests: each connection throttles alone */
  readonly groups?: ThrottleGroups
  /** the server-wide control budget per turn; absent in unit tests: every message runs at once */
  readonly pacer?: ControlPacer
  /** this node's name for subscribe acks (--node-name); absent in unit tests */
  readonly node?: string
  /** resume from the consumer's ring (`since`); null until the server wires its dispatcher (then always set) */
  replay: RingReplay | null
  /** ends `c` with 4001 on a later turn: never inside a uWS publish or drop callback (measured: segfault) */
  closeLater(c: HostedConnection): void
  /** `c` has (true) or no longer has (false) throttled symbols: the host's throttle timer visits it */
  throttling(c: HostedConnection, on: boolean): void
}

/** What the host's timers and deferred closes call on a connection. */
export interface HostedConnection {
  scan(nowMs: number): void
  flushThrottled(nowMs: number): void
  end(reason: CloseReason, code: number, message: string): void
}
