// Owns the --feed specification: its URL grammar (lines, credentials, session, ownership, GLIMPSE) parsed into a FeedConfig.
// Must never read process.env (config.ts owns it) nor print a password: every problem names the feed with it masked.
import { readFileSync } from 'node:fs'
import { redactUrl } from './redact.js'

export interface FeedEndpoint { host: string; port: number }
export interface FeedConfig {
  name: string
  /** payload protocol carried over SoupBinTCP */
  protocol: 'native' | 'itch' | 'tops'
  /** one line, or two for A/B arbitration */
  lines: FeedEndpoint[]
  username: string
  password: string
  session: string
  /** sequence number requested at the first login */
  startSeq: number
  /** write every received payload to this file (tickcast capture v1, replayable) */
  record?: string
  /** ITCH session date YYYY-MM-DD (ITCH times are ns since midnight US Eastern); default today */
  sessionDate?: string
  /**
   * GLIMPSE 5.0 snapshot endpoint that seeds the feed at start and after every gap (feeds/README.md): ITCH books, or a
   * native feed's last quotes and statuses (the simulator's and feed:replay's endpoints)
   */
  glimpse?: FeedEndpoint & { username?: string; password?: string }
  /** `symbols=AAPL,MSFT,Z*`: the symbols this feed owns (no other feed may publish them; it may publish nothing else) */
  symbols?: string
  /** `quota=N`: most symbols this feed may define (default: the whole table) */
  quota?: number
}

const FEED_PROTOCOLS = ['native', 'itch', 'tops'] as const
const FEED_NAME = /^[a-z][a-z0-9_-]{0,31}$/

/** Parses `name=protocol:tcp://[user:pass@]host:port[,tcp://host:port][?session=S&seq=N]`. */
export function parseFeed(spec: string, problems: string[]): FeedConfig | null {
  const shown = spec.replace(/\/\/([^:@/]*):[^@/]*@/g, '//$1:***@') // problems are printed: never with the password
  const m = /^([^=]+)=(?:([a-z]+):)?(tcp:\/\/.+)$/.exec(spec.trim())
  if (!m) { problems.push(`--feed "${shown}": expected name=protocol:tcp://host:port`); return null }
  const [, name, protocol = 'native', rest] = m
  const before = problems.length
  if (!FEED_NAME.test(name)) problems.push(`--feed "${shown}": name must match ${FEED_NAME}`)
  if (!(FEED_PROTOCOLS as readonly string[]).includes(protocol)) problems.push(`--feed "${shown}": protocol must be one of ${FEED_PROTOCOLS.join(', ')}`)
  const [urls, query = ''] = rest.split('?', 2)
  const lines: FeedEndpoint[] = []
  let username = '', password = ''
  for (const u of urls.split(',')) {
    let url: URL
    try { url = new URL(u) } catch { problems.push(`--feed "${shown}": "${redactUrl(u)}" is not a URL`); continue }
    const port = Number(url.port)
    if (url.protocol !== 'tcp:' || !url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`--feed "${shown}": "${redactUrl(u)}" must be tcp://host:port with a port in 1..65535`); continue
    }
    if (url.username) { username = decodeURIComponent(url.username); password = decodeURIComponent(url.password) }
    lines.push({ host: url.hostname.replace(/^\[|\]$/g, ''), port })
  }
  if (lines.length > 2) problems.push(`--feed "${shown}": at most two lines (A/B)`)
  const q = new URLSearchParams(query)
  const session = q.get('session') ?? ''
  const startSeq = Number(q.get('seq') ?? '1')
  if (session.length > 10) problems.push(`--feed "${shown}": session is at most 10 characters`)
  if (!Number.isInteger(startSeq) || startSeq < 0) problems.push(`--feed "${shown}": seq must be an integer ≥ 0`)
  if (username.length > 6 || password.length > 10) problems.push(`--feed ${name}: SoupBinTCP username ≤ 6 and password ≤ 10 characters`)
  // credentials need not sit in the URL (shell history, ps): ?password-file= reads it, TICKCAST_FEED_<NAME>_PASSWORD
  // (applied by loadConfig, which owns env) overrides both
  const passwordFile = q.get('password-file')
  if (passwordFile !== null) {
    try { password = readFileSync(passwordFile, 'utf8').trim() } catch (e) { problems.push(`--feed ${name}: password-file: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`) }
  }
  const record = q.get('record') ?? undefined, sessionDate = q.get('date') ?? undefined
  if (sessionDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(sessionDate)) problems.push(`--feed "${shown}": date must be YYYY-MM-DD`)
  const symbols = q.get('symbols') ?? undefined, quota = q.get('quota') === null ? undefined : Number(q.get('quota'))
  if (symbols !== undefined && !/^[A-Za-z0-9._+=^*-]+(,[A-Za-z0-9._+=^*-]+)*$/.test(symbols)) problems.push(`--feed "${shown}": symbols must be a comma-separated list of symbols or patterns with *`)
  if (quota !== undefined && !(Number.isInteger(quota) && quota >= 1)) problems.push(`--feed "${shown}": quota must be an integer ≥ 1`)
  for (const k of q.keys()) if (!['session', 'seq', 'record', 'date', 'symbols', 'quota', 'glimpse', 'password-file'].includes(k)) problems.push(`--feed "${shown}": unknown parameter "${k}"`)
  const glimpse = parseGlimpse(q.get('glimpse'), protocol, `--feed ${name}`, problems)
  if (problems.length > before) return null
  const feed: FeedConfig = { name, protocol: protocol as FeedConfig['protocol'], lines, username, password, session, startSeq }
  if (glimpse) feed.glimpse = glimpse
  if (record) feed.record = record
  if (sessionDate) feed.sessionDate = sessionDate
  if (symbols) feed.symbols = symbols
  if (quota !== undefined) feed.quota = quota
  return feed
}

/** The env var holding a feed's password: TICKCAST_FEED_<NAME>_PASSWORD, the name upper-cased with - as _. */
export function feedPasswordEnv(name: string): string { return `TICKCAST_FEED_${name.toUpperCase().replace(/-/g, '_')}_PASSWORD` }

/**
 * `glimpse=tcp://[user:pass@]host:port`: ITCH (a GLIMPSE snapshot is an ITCH order book) or native (the same session
 * carrying native messages: the simulator's endpoint). TOPS has no snapshot service: every quote is whole anyway.
 */
function parseGlimpse(v: string | null, protocol: string, where: string, problems: string[]): FeedConfig['glimpse'] | null {
  if (v === null) return null
  let url: URL | null = null
  try { url = new URL(v) } catch { /* reported below */ }
  const port = Number(url?.port)
  if (!url || url.protocol !== 'tcp:' || !url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`${where}: glimpse must be tcp://host:port with a port in 1..65535`); return null
  }
  if (protocol !== 'itch' && protocol !== 'native') { problems.push(`${where}: glimpse= needs protocol itch or native (a snapshot session in the feed's own messages)`); return null }
  const g: NonNullable<FeedConfig['glimpse']> = { host: url.hostname.replace(/^\[|\]$/g, ''), port }
  if (url.username) { g.username = decodeURIComponent(url.username); g.password = decodeURIComponent(url.password) }
  return g
}
