// Owns what one SoupBinTCP line is configured with: the options, their defaults and the timing derived from them.
// Must never open a socket or keep state: resolved once when a SoupClient is built, read-only afterwards.
import { MAX_BODY_BYTES } from './soupbin.js'

export interface SoupClientOptions {
  name: string
  host: string
  port: number
  username: string
  password: string
  /** blank = the server's current session */
  session?: string
  /** sequence requested at the very first login (default 1); 0 = start with the next live message */
  startSeq?: number
  /**
   * Asked at every login with this line's own resume point (nextExpectedSeq); returns the sequence to request
   * instead. An A/B session answers with where the merged stream is, so a line that was away does not replay
   * what the other line already delivered. Default: resume where this line left off.
   */
  resumeFrom?: ResumeFrom
  heartbeatIntervalMs?: number
  deadAfterMs?: number
  backoffMinMs?: number
  backoffMaxMs?: number
  connectTimeoutMs?: number
  /** largest acceptable length field (type + payload), ≤ 65535; a longer frame is a bad frame */
  maxFrameBytes?: number
  /** largest sequenced message the payload protocol has (ITCH 5.0: 50); a longer one is a bad frame (default 65534) */
  maxMessageBytes?: number
}

/** Returns the sequence a line should log in at, given where it would resume on its own. */
export type ResumeFrom = (lineNextSeq: number) => number

/** Every option set: `resumeFrom` null when the line resumes where it left off. */
export type ResolvedSoupOptions = Readonly<Required<Omit<SoupClientOptions, 'resumeFrom'>>> & { readonly resumeFrom: ResumeFrom | null }

export function resolveSoupOptions(opts: SoupClientOptions): ResolvedSoupOptions {
  return {
    name: opts.name, host: opts.host, port: opts.port, username: opts.username, password: opts.password,
    session: opts.session ?? '', startSeq: opts.startSeq ?? 1, resumeFrom: opts.resumeFrom ?? null,
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1000, deadAfterMs: opts.deadAfterMs ?? 15000,
    backoffMinMs: opts.backoffMinMs ?? 100, backoffMaxMs: opts.backoffMaxMs ?? 5000, connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
    maxFrameBytes: opts.maxFrameBytes ?? MAX_BODY_BYTES, maxMessageBytes: opts.maxMessageBytes ?? MAX_BODY_BYTES - 1,
  }
}

/** One ticker drives heartbeats, dead-link and connect timeouts: a quarter of the tightest deadline (5..250 ms). */
export function tickPeriodMs(o: ResolvedSoupOptions): number {
  return Math.max(5, Math.min(250, o.heartbeatIntervalMs / 4, o.deadAfterMs / 4))
}
