// Owns the WebSocket control protocol: parsing and validating client requests, and the JSON text of every reply.
// Must never touch sockets, the registry or the ring: it turns bytes into a request and results into strings.
/**
 * # tickcast WebSocket protocol (v1)
 *
 * Connect: `GET /v1/stream?format=json|msgpack` (default `json`) with a WebSocket upgrade.
 * - unknown `format` → HTTP 400 before the upgrade; `Sec-WebSocket-Version` other than 13 → HTTP 426 with
 *   `Sec-WebSocket-Version: 13`; when an Origin allow-list is configured, a foreign `Origin` or the literal
 *   `null` → HTTP 403 (a missing Origin, as sent by non-browser clients, is allowed).
 *
 * Client → server: JSON **text** frames only, at most `maxPayloadLength` bytes (default 4 KiB; a bigger frame
 * makes uWS drop the TCP connection at once, without a close frame).
 * ```
 * {"op":"subscribe","symbols":["AAPL","MS*","*"],"snapshot":true,"id":"r1"}
 * {"op":"unsubscribe","symbols":["AAPL","MS*"],"id":"r2"}
 * {"op":"ping","id":"r3"}
 * {"op":"auth","token":"<JWT or API key>","id":"a1"}
 * ```
 * - Authentication (when the server requires it; README, Security): a credential in `Authorization: Bearer` on the
 *   upgrade, or `op:auth` as the first message within `--auth-deadline-ms` (anything else first, or another message
 *   before the `{"type":"authenticated",...}` reply, closes 4401). Before `exp` the server sends
 *   `{"type":"auth_expiring","expiresAt":ms,"time":ms}`; a new `op:auth` (same principal) refreshes in-band; at
 *   `exp` unrefreshed → close 4402. Revoked principal or over its connection cap → 4403. A subscribe entry the
 *   principal is not entitled to → error NOT_ENTITLED (patterns expand only to entitled symbols).
 * - `id` (optional): a string of ≤ 64 characters or a finite number, echoed in the reply.
 * - `symbols`: a non-empty array of strings (at most maxSymbolsPerConnection + maxPatternsPerConnection entries,
 *   else TOO_LARGE). An entry is
 *   a symbol (`^[A-Za-z0-9][A-Za-z0-9._+=^-]{0,15}$`, case-sensitive) or a pattern: `*` alone = every symbol,
 *   `PREFIX*` = every symbol starting with PREFIX, including symbols that appear later.
 * - `snapshot` (optional, default true): send the current state of every symbol the request names explicitly,
 *   *held already or not*, and of every symbol its patterns newly cover. A plain subscribe to a symbol the
 *   connection already holds is how a client resyncs it (PROTOCOL.md, "Client reaction").
 * - `since` (optional): `{"AAPL": 1234}`, the last per-symbol `n` the client holds (after a reconnect, on any node:
 *   `n` is the same everywhere). For each listed symbol the request subscribes, the node replays the events after it
 *   from its ring when it still holds all of them, instead of a snapshot; the ack's `recovered` says per symbol
 *   whether it did (`true`: replay, then live updates at the next n) or sent a snapshot (`false`). A node behind the
 *   client (it has not reached that `n` yet) answers `true` and replays nothing: its live updates up to that `n` are
 *   duplicates the client ignores. `epoch` (string): the `epoch` of the ack the sequences came from; a node of another epoch (another stream) snapshots.
 *   Acks of nodes that can resume carry their `epoch`, and every `subscribed` ack names its `node` (--node-name).
 * - `maxHz` (optional, ≥ 0.001): at most this many updates per second per symbol for the symbols this request newly
 *   subscribes; `maxAgeMs` (optional, in (0, 3600000]): a staleness budget, updates are coalesced for at most this long and
 *   the latest value replaces older ones. Throttled symbols get ordinary updates; a delivery that stands for several
 *   carries `c` (updates conflated away just before it, so n = previous n + 1 + c), one event per kind that changed,
 *   and a `trades_skipped` control message counts the trades in between; a `snap` only when stale or book state changed. The ack carries the effective values
 *   (maxHz ≤ 100, maxAgeMs ≥ 10 ms: the throttle timer's granularity; with both, maxAgeMs ≥ 1000/maxHz + 10).
 *
 * Server → client control replies are always JSON **text** frames, also on msgpack connections:
 * ```
 * {"type":"subscribed","id":"r1","symbols":["AAPL"],"patterns":["MS*","*"]}
 * {"type":"unsubscribed","id":"r2","symbols":["AAPL"],"patterns":["MS*"]}
 * {"type":"pong","id":"r3","time":1732619000123}            time = server clock, ms since the Unix epoch
 * {"type":"error","code":"UNKNOWN_SYMBOL","symbol":"ZZZZ","id":"r1","message":"..."}
 * ```
 * - `subscribed` lists the explicit symbols and patterns now held for this request (new or already held);
 *   `unsubscribed` lists those actually removed (entries that were not held are ignored). A symbol stays
 *   subscribed while any explicit symbol or pattern of the connection still covers it.
 * - A request with some bad entries applies the good ones and sends one error per bad entry before the ack
 *   (at most `MAX_ERRORS_PER_REQUEST`; the ack is authoritative).
 * - Error codes (stable, src/errors.ts): MALFORMED (not JSON, not an object, binary frame, bad field types),
 *   UNKNOWN_OP, UNKNOWN_SYMBOL, BAD_SYMBOL, TOO_MANY_SUBSCRIPTIONS (over `maxSymbolsPerConnection` explicit
 *   symbols or `maxPatternsPerConnection` patterns), RATE_LIMITED (over `maxControlMessagesPerSec`, burst
 *   `controlBurst`), TOO_LARGE (too many entries in one request). None of them closes the connection.
 *
 * Data frames: JSON connections get text frames `[event,event,...]`; msgpack connections get binary frames
 * holding a msgpack array of event maps (src/codec). Each event names its symbol: a connection's live updates come
 * in one frame per dispatcher drain holding every symbol of it that changed (a new frame past half
 * `maxBackpressureBytes`, at most 64 KiB). On subscribe, the snapshots (`"e":"snap"`, per-symbol
 * sequence `n`, nulls for what the symbol has not seen; `n` = 0 when it has seen nothing; `stale`: null when
 * complete, else the reason) of the symbols the request names explicitly (held already or not) and of those its
 * patterns newly cover arrive after the ack and before any update of those symbols, in data frames of at most
 * 64 KiB, so the next update of a symbol carries `n + 1`. A big snapshot (`*` over a large universe) is written as
 * the client reads it: a frame goes out only while the connection's buffered bytes are at most half
 * `maxBackpressureBytes`, and is at most half of it, so a snapshot alone never starts the slow-consumer ladder. A
 * symbol still waiting for its snapshot gets no update before it; its trades after the ack and before the snapshot
 * are counted in a `trades_skipped` just before it. A symbol that appears later and matches a pattern gets no
 * snapshot: its first update carries `n = 1`. When a symbol's data may be incomplete, its own stream says so with
 * `stale` / `fresh` markers, in order with its updates (PROTOCOL.md); there is no connection-wide loss message.
 *
 * Slow consumers (a ladder, each step announced and counted):
 * 1. full rate while the socket's buffered bytes stay under `maxBackpressureBytes` (the soft limit);
 * 2. over it: `{"type":"slow","state":"conflating","time":..,"bufferedBytes":N}`; the connection gets nothing
 *    while it drains; per symbol only "changed since" is kept. When its buffer is under half the soft limit:
 *    symbols that did not change resume at once; per symbol that did, `{"type":"trades_skipped","symbol":S,"count":k}`
 *    when its trades were not delivered one by one, then its `snap` (latest state, per-symbol `n`: the sequence jump
 *    the slow message explains), in frames written as it drains like any snapshot; then
 *    `{"type":"slow","state":"normal","time":..,"symbols":k,"snapshots":m,"tradesSkipped":T}` and updates resume at
 *    n + 1. Should the buffer pass the soft limit again before the last snap, `normal` comes at once (with what was
 *    sent) before the next `conflating`, and the remaining snaps come with the next catch-up;
 * 3. still conflating after `slowGraceMs` (the buffer never drained): closed with 4001.
 * Server overload (ingest on its own thread, README "Overload"): the feed is never held back, so a fan-out that falls
 * half a ring behind resumes at the newest event instead: per symbol that changed, `trades_skipped` when trades were
 * skipped, then its `snap` (latest state; the sequence jump it explains), then updates at n + 1. Conflating and
 * throttled connections get the same through their own snaps (a throttled window that spans the jump carries it in `c`).
 * Close codes: 1001 shutdown; 4001 slow consumer (the close frame itself may be lost behind the full buffer,
 * so the client can see 1006); 4005 rate limited (kept sending while limited).
 * Heartbeats: the server pings automatically; a peer silent for `idleTimeoutSec` is dropped.
 *
 * Data events, stale/fresh markers and how a client reacts to each: PROTOCOL.md beside this file, which copies
 * the text above.
 */
import { ERR_MALFORMED, ERR_TOO_LARGE, ERR_UNKNOWN_OP } from '../errors.js'
import { echoPrefix } from '../redact.js'

export const OP_NONE = 0, OP_SUBSCRIBE = 1, OP_UNSUBSCRIBE = 2, OP_PING = 3, OP_AUTH = 4
export const MAX_ID_CHARS = 64
export const MAX_ERRORS_PER_REQUEST = 32
/** `*` alone, or a symbol prefix followed by `*` */
export const PATTERN_RE = /^(?:[A-Za-z0-9][A-Za-z0-9._+=^-]{0,15})?\*$/

export type RequestId = string | number | undefined

/** One parsed request; the server keeps one and refills it per message (fields always set, in one order). */
export class ControlRequest {
  op = OP_NONE
  id: RequestId = undefined
  symbols: string[] = []
  snapshot = true
  /** throttling asked for on subscribe: at most maxHz updates/s per symbol, staleness budget maxAgeMs; 0 = none */
  maxHz = 0
  maxAgeMs = 0
  /** op:auth's credential (a JWT or an API key); '' otherwise. Never logged. */
  token = ''
  /** resume: the last per-symbol `n` the client holds, by symbol name (src/resume/ring-replay.ts); null = none */
  since: Map<string, number> | null = null
  /** the stream epoch the `since` sequences belong to (the ack's `epoch` of the node the client came from) */
  epoch = ''
  /** '' when parsing succeeded, else the error code to reply with */
  errorCode = ''
  errorMessage = ''
}

/** Throttle bounds accepted on subscribe (documented in the README's limits table). */
export const MIN_MAX_HZ = 0.001
export const MAX_AGE_MS = 3_600_000
/** Bad input echoed in an error reply: a symbol is ≤ 16 characters, so 32 shows any real mistake whole. */
export const MAX_ECHO_CHARS = 32

function fail(out: ControlRequest, code: string, message: string): boolean {
  out.errorCode = code; out.errorMessage = message
  return false
}

/**
 * Parses one client frame into `out`. Returns false with out.errorCode set when the request is unusable;
 * per-entry symbol validation happens when the registry applies it (good entries still apply).
 * Runs synchronously: uWS neuters `data` when the message handler returns.
 */
export function parseControl(data: ArrayBuffer, isBinary: boolean, maxSymbolsPerRequest: number, out: ControlRequest): boolean {
  out.op = OP_NONE; out.id = undefined; out.symbols = []; out.snapshot = true; out.maxHz = 0; out.maxAgeMs = 0; out.token = ''; out.since = null; out.epoch = ''; out.errorCode = ''; out.errorMessage = ''
  if (isBinary) return fail(out, ERR_MALFORMED, 'control messages are JSON text frames')
  let msg: unknown
  try {
    msg = JSON.parse(Buffer.from(data).toString('utf8'))
  } catch {
    return fail(out, ERR_MALFORMED, 'not valid JSON')
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return fail(out, ERR_MALFORMED, 'expected a JSON object')
  const m = msg as Record<string, unknown>
  const id = m.id
  if (typeof id === 'string' && id.length <= MAX_ID_CHARS) out.id = id
  else if (typeof id === 'number' && Number.isFinite(id)) out.id = id
  else if (id !== undefined) return fail(out, ERR_MALFORMED, `id must be a string of at most ${MAX_ID_CHARS} characters or a number`)
  const op = m.op
  if (typeof op !== 'string') return fail(out, ERR_MALFORMED, 'op must be a string')
  if (op === 'ping') { out.op = OP_PING; return true }
  if (op === 'auth') {
    out.op = OP_AUTH
    if (typeof m.token !== 'string' || m.token.length === 0) return fail(out, ERR_MALFORMED, 'token must be a non-empty string')
    out.token = m.token
    return true
  }
  if (op === 'subscribe') out.op = OP_SUBSCRIBE
  else if (op === 'unsubscribe') out.op = OP_UNSUBSCRIBE
  else return fail(out, ERR_UNKNOWN_OP, 'op must be subscribe, unsubscribe, ping or auth')
  const symbols = m.symbols
  if (!Array.isArray(symbols) || symbols.length === 0) return fail(out, ERR_MALFORMED, 'symbols must be a non-empty array of strings')
  if (symbols.length > maxSymbolsPerRequest) return fail(out, ERR_TOO_LARGE, `at most ${maxSymbolsPerRequest} symbols per request`)
  for (let i = 0; i < symbols.length; i++) {
    if (typeof symbols[i] !== 'string') return fail(out, ERR_MALFORMED, 'symbols must be a non-empty array of strings')
  }
  out.symbols = symbols as string[]
  const snapshot = m.snapshot
  if (typeof snapshot === 'boolean') out.snapshot = snapshot
  else if (snapshot !== undefined) return fail(out, ERR_MALFORMED, 'snapshot must be a boolean')
  const maxHz = m.maxHz, maxAgeMs = m.maxAgeMs
  // Bounded both ways: below MIN_MAX_HZ or above MAX_AGE_MS a "subscription" only holds server state (1e-300 was
  // accepted once); above 100 Hz maxHz is clamped to the throttle tick (the ack says so).
  if (typeof maxHz === 'number' && Number.isFinite(maxHz) && maxHz >= MIN_MAX_HZ) out.maxHz = maxHz
  else if (maxHz !== undefined) return fail(out, ERR_MALFORMED, `maxHz must be a number ≥ ${MIN_MAX_HZ}`)
  if (typeof maxAgeMs === 'number' && Number.isFinite(maxAgeMs) && maxAgeMs > 0 && maxAgeMs <= MAX_AGE_MS) out.maxAgeMs = maxAgeMs
  else if (maxAgeMs !== undefined) return fail(out, ERR_MALFORMED, `maxAgeMs must be a number in (0, ${MAX_AGE_MS}]`)
  const epoch = m.epoch
  if (typeof epoch === 'string' && epoch.length <= MAX_ID_CHARS) out.epoch = epoch
  else if (epoch !== undefined) return fail(out, ERR_MALFORMED, `epoch must be a string of at most ${MAX_ID_CHARS} characters`)
  return m.since === undefined || parseSince(m.since, maxSymbolsPerRequest, out)
}

/** `"since": {"AAPL": 1234}`: per symbol, the last `n` the client holds (an integer ≥ 0). */
function parseSince(since: unknown, maxEntries: number, out: ControlRequest): boolean {
  const bad = 'since must be an object of symbol → last n held (an integer ≥ 0)'
  if (typeof since !== 'object' || since === null || Array.isArray(since)) return fail(out, ERR_MALFORMED, bad)
  const entries = Object.entries(since as Record<string, unknown>)
  if (entries.length > maxEntries) return fail(out, ERR_TOO_LARGE, `at most ${maxEntries} entries in since`)
  const map = new Map<string, number>()
  for (const [symbol, n] of entries) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return fail(out, ERR_MALFORMED, bad)
    map.set(symbol, n)
  }
  out.since = map
  return true
}

export function isPattern(entry: string): boolean { return entry.length > 0 && entry.charCodeAt(entry.length - 1) === 42 /* * */ }

// Replies: JSON.stringify is fine here, this is the control plane (≤ maxControlMessagesPerSec per client).
export function ackReply(type: 'subscribed' | 'unsubscribed', id: RequestId, symbols: readonly string[], patterns: readonly string[],
  maxHz = 0, maxAgeMs = 0, recovered: Record<string, boolean> | undefined = undefined, epoch: string | undefined = undefined,
  node: string | undefined = undefined): string {
  if (maxHz === 0 && maxAgeMs === 0) return JSON.stringify({ type, id, symbols, patterns, recovered, epoch, node })
  return JSON.stringify({ type, id, symbols, patterns, maxHz: maxHz === 0 ? undefined : maxHz, maxAgeMs, recovered, epoch, node })
}

/** A slow-consumer ladder step; `extra` carries the step's figures (bufferedBytes, symbols, tradesSkipped). */
export function slowReply(state: 'conflating' | 'normal', timeMs: number, extra: Record<string, number>): string {
  return JSON.stringify({ type: 'slow', state, time: timeMs, ...extra })
}

/** Trades of `symbol` that were not delivered one by one (conflation or throttling); the next snap shows the last. */
export function tradesSkippedReply(symbol: string, count: number): string {
  return JSON.stringify({ type: 'trades_skipped', symbol, count })
}

/** `symbol` is the client's own entry, echoed so it can match the error: only its first MAX_ECHO_CHARS (amplification). */
export function errorReply(code: string, message: string, id: RequestId, symbol?: string): string {
  return JSON.stringify({ type: 'error', code, symbol: symbol === undefined ? undefined : echoPrefix(symbol, MAX_ECHO_CHARS), id, message })
}

export function pongReply(id: RequestId, timeMs: number): string {
  return JSON.stringify({ type: 'pong', id, time: timeMs })
}
