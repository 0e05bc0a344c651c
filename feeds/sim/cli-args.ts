// Owns the feed simulator's command line: flags, defaults, validation, usage text.
// Must never start anything or exit: it returns options or every problem at once, and the entry acts.
import { parseArgs } from 'node:util'
import type { SimulatorOptions } from './simulator.js'

export const USAGE = `Usage: node dist/feeds/sim.js [options]

tickcast feed simulator: a SoupBinTCP 4.0 server streaming the tickcast native feed protocol v1
(feeds/PROTOCOL.md) for a synthetic market. Prints {"event":"listening",...} on stdout when ready.

Options:
  --host <addr>          listen address                              (default 127.0.0.1)
  --port <n>             listen port, 0 = ephemeral                  (default 7001)
  --session <id>         SoupBinTCP session id, 1-10 letters/digits  (default SIM0000001)
  --symbols <n>          first N symbols of the universe, busiest first (default 500)
  --rate <n>             messages per second, 0 = as fast as possible (default 100000)
  --seed <n>             random seed (same seed, same market)         (default 1)
  --duration-sec <n>     end the session after N seconds, 0 = never   (default 0)
  --universe <path>      symbol,price,name CSV                        (default feeds/symbols/us-equities.csv)
  --directory-every-sec <n>  repeat the symbol directory every N s, interleaved with the stream, 0 = never (default 10)
  --recovery-mb <n>      replay buffer for clients resuming at last+1 (default 64)
  --glimpse-port <n>     also serve GLIMPSE-style snapshots (the market published so far as native
                         messages, then End of Snapshot with the live sequence to resume at), 0 = ephemeral
                                                                     (default: none)
  --stdin-control        read commands from stdin, one a line: "rate <n>" paces at n messages/s from now on
                         (a stepped, open-loop offered load), "count" reports; each answers a JSON line
                         {"event":"rate"|"count","rate":n,"messages":m,"timeMs":t} on stdout   (default off)
  --help                 print this text
`

export type SimArgs = { ok: true; help: boolean; opts: SimulatorOptions; stdinControl: boolean } | { ok: false; errors: string[] }

const OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '7001' },
  session: { type: 'string', default: 'SIM0000001' },
  symbols: { type: 'string', default: '500' },
  rate: { type: 'string', default: '100000' },
  seed: { type: 'string', default: '1' },
  'duration-sec': { type: 'string', default: '0' },
  universe: { type: 'string' },
  'directory-every-sec': { type: 'string', default: '10' },
  'recovery-mb': { type: 'string', default: '64' },
  'glimpse-port': { type: 'string' },
  'stdin-control': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const

export function parseSimArgs(argv: string[]): SimArgs {
  let values
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values
  } catch (e) {
    return { ok: false, errors: [(e as Error).message] }
  }
  if (values.help) return { ok: true, help: true, opts: {}, stdinControl: false }
  const errors: string[] = []
  const num = (flag: string, text: string, min: number, max: number, integer = true): number => {
    const v = Number(text)
    if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      errors.push(`--${flag}: expected ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got "${text}"`)
    }
    return v
  }
  const opts: SimulatorOptions = {
    host: values.host,
    port: num('port', values.port, 0, 65535),
    sessionId: values.session,
    symbols: num('symbols', values.symbols, 1, 1_000_000),
    rate: num('rate', values.rate, 0, 100_000_000),
    seed: num('seed', values.seed, -(2 ** 31), 2 ** 31 - 1),
    durationSec: num('duration-sec', values['duration-sec'], 0, 365 * 86400, false),
    universePath: values.universe,
    directoryEverySec: num('directory-every-sec', values['directory-every-sec'], 0, 86400, false),
    recoveryBytes: num('recovery-mb', values['recovery-mb'], 1, 65536) * 1024 * 1024,
  }
  if (values['glimpse-port'] !== undefined) opts.glimpsePort = num('glimpse-port', values['glimpse-port'], 0, 65535)
  if (!/^[A-Za-z0-9]{1,10}$/.test(values.session)) errors.push(`--session: expected 1-10 letters or digits, got "${values.session}"`)
  if (values.host.trim() === '') errors.push('--host: empty')
  return errors.length > 0 ? { ok: false, errors } : { ok: true, help: false, opts, stdinControl: values['stdin-control'] }
}
