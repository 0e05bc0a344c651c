// Owns the feed simulator command: parse flags, start the simulator, report on stdout, stop on signals.
// Must never hold simulator logic (feeds/sim/ does, so the server and tests embed the same code).
import { createInterface } from 'node:readline'
import { parseSimArgs, USAGE } from './sim/cli-args.js'
import { startSimulator } from './sim/simulator.js'
import type { RunningSimulator } from './sim/simulator.js'

/** how long clients get to read End of Session before sockets close */
const SHUTDOWN_GRACE_MS = 1000

function line(obj: Record<string, unknown>): void { process.stdout.write(JSON.stringify(obj) + '\n') }

async function main(argv: string[]): Promise<void> {
  const args = parseSimArgs(argv)
  if (!args.ok) {
    process.stderr.write(args.errors.map((e) => `error: ${e}`).join('\n') + '\n\n' + USAGE)
    process.exit(2)
  }
  if (args.help) { process.stdout.write(USAGE); return }
  const o = args.opts
  const sim = await startSimulator(o)
  line({ event: 'listening', host: o.host, port: sim.port, glimpsePort: sim.glimpsePort, session: o.sessionId, symbols: sim.generator.symbolCount, rate: o.rate })

  if (args.stdinControl) readControl(sim, o.rate ?? 100_000)

  let exiting = false
  const exit = (reason: string): void => {
    if (exiting) return
    exiting = true
    sim.stop(SHUTDOWN_GRACE_MS).then(
      () => { line({ event: 'stopped', reason, messages: sim.server.nextSeq - 1 }); process.exit(0) },
      (e: unknown) => { process.stderr.write(`error: stop failed: ${String(e)}\n`); process.exit(1) },
    )
  }
  process.once('SIGINT', () => exit('SIGINT'))
  process.once('SIGTERM', () => exit('SIGTERM'))
  void sim.ended.then(() => exit('duration'))
}

/** --stdin-control: a benchmark steps the offered load ("rate <n>") and reads back how much was sent ("count"). */
function readControl(sim: RunningSimulator, initialRate: number): void {
  let rate = initialRate
  createInterface({ input: process.stdin }).on('line', (text) => {
    const [cmd, arg] = text.trim().split(/\s+/)
    if (cmd === 'rate' && arg !== undefined && Number.isInteger(Number(arg)) && Number(arg) >= 0) { rate = Number(arg); sim.setRate(rate) }
    else if (cmd !== 'count') { process.stderr.write(`error: unknown control command "${text}" (rate <n> | count)\n`); return }
    line({ event: cmd, rate, messages: sim.server.nextSeq - 1, timeMs: Date.now() })
  })
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
