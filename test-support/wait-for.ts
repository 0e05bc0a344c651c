// Owns the bounded polling helper tests use to wait for asynchronous conditions (sockets, timers).
// Must never wait unbounded: every wait has a deadline and fails with the caller's description.

/** Polls `cond` every `stepMs` until it returns true; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what = 'condition', stepMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out after ' + timeoutMs + ' ms waiting for ' + what)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
