// Owns the capture replayer command: parse flags, start the replay, report JSON lines on stdout, stop on signals.
// Must never hold replay logic (feeds/replay/ does, so tests and benches run the same code in-process).
import { REPLAY_USAGE, parseReplayArgs } from './replay/cli-args.js'
import { captureReport } from './replay/load-capture.js'
import { startReplay } from './replay/replayer.js'

/** how long clients get to read End of Session before sockets close */
const SHUTDOWN_GRACE_MS = 1000

function line(obj: Record<string, unknown>): void { process.stdout.write(JSON.stringify(obj) + '\n') }

async function main(argv: string[]): Promise<void> {
  const args = parseReplayArgs(argv)
  if (!args.ok) {
    process.stderr.write(args.errors.map((e) => `error: ${e}`).join('\n') + '\n\n' + REPLAY_USAGE)
    process.exit(2)
  }
  if (args.help) { process.stdout.write(REPLAY_USAGE); return }
  const o = args.opts
  const replay = await startReplay(o)
  // What the capture held, before anything is served: passes (venue sequence restarts), copies left out, venue gaps.
  line({ event: 'capture', capture: o.capture, ...captureReport(replay.capture), served: replay.messages, pass: o.capturePass ?? 'all' })
  line({ event: 'listening', host: o.host, port: replay.port, session: o.sessionId, capture: o.capture, format: replay.format,
    protocol: replay.protocol, messages: replay.messages, pace: o.pace, loop: o.loop, ...(replay.glimpsePort !== null ? { glimpsePort: replay.glimpsePort } : {}) })
  // End of Session is queued for clients; the server stays up so late clients can still replay the whole session.
  void replay.done.then(() => { if (!exiting) line({ event: 'end_of_session', messages: replay.server.nextSeq - 1 }) })

  let exiting = false
  const exit = (reason: string): void => {
    if (exiting) return
    exiting = true
    replay.stop(SHUTDOWN_GRACE_MS).then(
      () => { line({ event: 'stopped', reason, messages: replay.server.nextSeq - 1, passes: replay.passes }); process.exit(0) },
      (e: unknown) => { process.stderr.write(`error: stop failed: ${String(e)}\n`); process.exit(1) },
    )
  }
  process.once('SIGINT', () => exit('SIGINT'))
  process.once('SIGTERM', () => exit('SIGTERM'))
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
