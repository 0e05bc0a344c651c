// Owns the WebSocket fan-out's plain counters: connections, subscriptions, control errors, closes, rejected upgrades.
// Must never hold a label map or a metric object: the metrics registry reads these numbers at scrape time.
import { AUTH_FAILURE_REASONS } from '../auth/principal.js'
import type { AuthFailureReason } from '../auth/principal.js'

/** Why a connection ended; a bounded set so it can become a metric label. */
export const CLOSE_REASONS = ['slow_consumer', 'too_big', 'protocol', 'rate_limited', 'shutdown', 'normal', 'idle', 'abnormal',
  'unauthenticated', 'token_expired', 'forbidden'] as const
export type CloseReason = (typeof CLOSE_REASONS)[number]

export const UPGRADE_REJECT_REASONS = ['origin', 'version', 'format', 'capacity', 'ip_limit', 'ip_rate'] as const
export type UpgradeRejectReason = (typeof UPGRADE_REJECT_REASONS)[number]

/** The stable codes of src/errors.ts that a control reply can carry. */
export const CONTROL_ERROR_CODES = [
  'MALFORMED', 'UNKNOWN_OP', 'UNKNOWN_SYMBOL', 'BAD_SYMBOL', 'TOO_MANY_SUBSCRIPTIONS', 'RATE_LIMITED', 'TOO_LARGE', 'NOT_ENTITLED', 'UNAUTHORIZED',
] as const
export type ControlErrorCode = (typeof CONTROL_ERROR_CODES)[number]

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  const o = {} as Record<K, number>
  for (const k of keys) o[k] = 0
  return o
}

export class WsStats {
  /** open WebSocket connections (gauge) */
  connections = 0
  connectionsTotal = 0
  /** explicit symbol subscriptions over all connections (gauge) */
  subscriptions = 0
  /** pattern subscriptions over all connections (gauge) */
  patterns = 0
  /** frames this server sent with ws.send (control replies, snapshots); the dispatcher counts its publishes */
  framesOut = 0
  bytesOut = 0
  /** messages uWS dropped for a socket over maxBackpressure before that socket was closed */
  backpressureDrops = 0
  controlMessages = 0
  /** slow-consumer ladder: connections conflating now (gauge), steps taken (totals) */
  slowConflating = 0
  slowConflateEntered = 0
  slowRecovered = 0
  /** trades not delivered one by one (conflated or throttled) and signalled with trades_skipped */
  tradesSkipped = 0
  /** snap events sent to catch a conflated connection up */
  slowCatchupSnapshots = 0
  /** symbol subscriptions held outside their topics by maxHz/maxAgeMs (gauge), and the snap events they were sent */
  throttledSubscriptions = 0
  throttledUpdates = 0
  readonly controlErrors: Record<ControlErrorCode, number> = zeros(CONTROL_ERROR_CODES)
  readonly closes: Record<CloseReason, number> = zeros(CLOSE_REASONS)
  readonly upgradesRejected: Record<UpgradeRejectReason, number> = zeros(UPGRADE_REJECT_REASONS)
  /** credentials refused (WebSocket and REST), by bounded reason; and symbols refused or taken away as not entitled */
  readonly authFailures: Record<AuthFailureReason, number> = zeros(AUTH_FAILURE_REASONS)
  entitlementDenials = 0
}
