// Owns reloading one configuration file (keys, roles, JWKS) when it changes on disk, keeping the last good parse.
// Must never throw after boot: a bad edit is logged and the previous contents stay in force.
import { readFileSync, statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { BootError } from '../errors.js'

/** Poll period: a stat every 250 ms, so a change applies to live connections well within the 1 s the issue asks. */
export const RELOAD_POLL_MS = 250

export interface ReloadLog { info(obj: object, msg: string): void; error(obj: object, msg: string): void }

/**
 * Polling (not fs.watch): editors and `mv` replace files, which inotify watches lose; one stat per 250 ms is free.
 * The parse function throws on bad contents; at boot that is a BootError, later the old value is kept.
 */
export class WatchedFile<T> {
  private value: T
  private sig: string
  private timer: NodeJS.Timeout | null = null
  private readonly listeners: Array<() => void> = []

  constructor(readonly path: string, private readonly what: string, private readonly parse: (text: string) => T, private readonly log: ReloadLog) {
    try {
      this.sig = signature(statSync(path))
      this.value = parse(readFileSync(path, 'utf8'))
    } catch (e) {
      throw new BootError('AUTH_FILE', `${what} ${path}: ${(e as Error).message}`)
    }
  }

  get current(): T { return this.value }

  onChange(fn: () => void): void { this.listeners.push(fn) }

  start(): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => { void this.poll() }, RELOAD_POLL_MS)
    this.timer.unref()
  }

  stop(): void { if (this.timer !== null) { clearInterval(this.timer); this.timer = null } }

  /** One look at the file (the timer calls it; tests may too). */
  async poll(): Promise<void> {
    let sig: string
    try { sig = signature(await stat(this.path)) } catch (e) {
      if (this.sig !== 'missing') this.log.error({ file: this.path, err: (e as Error).message }, `${this.what} unreadable: keeping the last good version`)
      this.sig = 'missing'
      return
    }
    if (sig === this.sig) return
    this.sig = sig
    try {
      this.value = this.parse(readFileSync(this.path, 'utf8'))
    } catch (e) {
      this.log.error({ file: this.path, err: (e as Error).message }, `${this.what} rejected: keeping the last good version`)
      return
    }
    this.log.info({ file: this.path }, `${this.what} reloaded`)
    for (const fn of this.listeners) fn()
  }
}

function signature(s: { mtimeMs: number; size: number; ino: number }): string { return `${s.ino}:${s.size}:${s.mtimeMs}` }
