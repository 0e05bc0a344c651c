// Owns the public surface of the capture replayer library (CLI, tests and benches import from here).
// Must never hold logic: the loader and the replayer live in their own files.
export { startReplay, parsePace } from './replayer.js'
export type { ReplayOptions, ReplayPace, RunningReplay } from './replayer.js'
export { loadCapture, loadCaptureFile } from './load-capture.js'
export type { CaptureFormat, LoadedCapture, ReplayProtocol } from './load-capture.js'
export { parseReplayArgs, REPLAY_USAGE } from './cli-args.js'
