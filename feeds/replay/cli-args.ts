// Owns the replayer command line: flags, defaults, validation (every problem reported at once) and usage text.
// Must never start anything: it returns options for startReplay or the list of errors.
import { parsePace } from './replayer.js'
import type { ReplayOptions } from './replayer.js'

export const REPLAY_USAGE = `usage: node dist/feeds/replay.js <capture> [options]
Serves a capture as a SoupBinTCP 4.0 session (one Sequenced Data packet per capture message).
capture: IEX TOPS pcap/pcapng (.gz ok), ITCH MoldUDP64 pcap, Nasdaq ITCH BinaryFILE, tickcast capture (--record)
  --port N            listen port (default 7002; 0 = any free port)
  --host ADDR         listen address (default 127.0.0.1)
  --pace P            recorded | fast | <N>x  (default fast: as fast as the client reads)
  --protocol P        auto | itch | tops | native  (default auto: from the capture)
  --session NAME      SoupBinTCP session id, up to 10 characters (default REPLAY)
  --loop              start over at the end instead of sending End of Session
  --capture-pass N    serve only pass N (1-based) of a capture whose venue sequence restarts (one session per day);
                      default: every pass in turn, numbered on as one session
  --wait-for-client   start the clock when the first client logs in
  --glimpse-port N    ITCH: also serve GLIMPSE 5.0 snapshots (the book sent so far, then the resume sequence) on port N
  --help              this text
`

export type ReplayArgs =
  | { ok: true; help: boolean; opts: ReplayOptions & { capture: string; host: string; port: number } }
  | { ok: false; errors: string[] }

export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  const errors: string[] = []
  const opts: ReplayOptions & { capture: string; host: string; port: number } = { capture: '', host: '127.0.0.1', port: 7002, pace: 'fast', protocol: 'auto', sessionId: 'REPLAY', loop: false, waitForClient: false }
  let help = false
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]
    const value = (): string => {
      const v = argv[k + 1]
      if (v === undefined || v.startsWith('--')) { errors.push(`${a} needs a value`); return '' }
      k++
      return v
    }
    switch (a) {
      case '--help': case '-h': help = true; break
      case '--loop': opts.loop = true; break
      case '--wait-for-client': opts.waitForClient = true; break
      case '--host': opts.host = value(); break
      case '--glimpse-port': {
        const v = value(), n = Number(v)
        if (v !== '' && (!Number.isInteger(n) || n < 0 || n > 65535)) errors.push(`--glimpse-port must be 0..65535, got ${v}`)
        opts.glimpsePort = n
        break
      }
      case '--capture-pass': {
        const v = value(), n = Number(v)
        if (v !== '' && (!Number.isInteger(n) || n < 1)) errors.push(`--capture-pass must be an integer ≥ 1, got ${v}`)
        opts.capturePass = n
        break
      }
      case '--port': {
        const v = value(), n = Number(v)
        if (v !== '' && (!Number.isInteger(n) || n < 0 || n > 65535)) errors.push(`--port must be 0..65535, got ${v}`)
        opts.port = n
        break
      }
      case '--pace': {
        const v = value(), p = parsePace(v)
        if (v !== '' && p === null) errors.push(`--pace must be recorded, fast or <N>x, got ${v}`)
        if (p !== null) opts.pace = p
        break
      }
      case '--protocol': {
        const v = value()
        if (v === 'auto' || v === 'itch' || v === 'tops' || v === 'native') opts.protocol = v
        else if (v !== '') errors.push(`--protocol must be auto, itch, tops or native, got ${v}`)
        break
      }
      case '--session': {
        const v = value()
        if (v.length > 10 || /[^\x21-\x7e]/.test(v)) errors.push(`--session is up to 10 printable characters, got ${v}`)
        opts.sessionId = v
        break
      }
      default:
        if (a.startsWith('-')) errors.push(`unknown option ${a}`)
        else if (opts.capture === '') opts.capture = a
        else errors.push(`one capture only (got ${opts.capture} and ${a})`)
    }
  }
  if (!help && opts.capture === '') errors.push('a capture file is required')
  return errors.length > 0 ? { ok: false, errors } : { ok: true, help, opts }
}
