// Owns how secrets are kept out of everything tickcast prints: URLs, the configuration it logs, reply prefixes.
// Must never return a secret or the input it was given unchanged when that input may hold one.
import type { Config } from './config.js'

export const REDACTED = '***'

/** A URL with its password replaced (user kept: it names who connects, not how); unparsable → a placeholder. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = REDACTED
    return u.toString()
  } catch {
    return '<invalid url>'
  }
}

/** The configuration as it may be logged: feed and MQTT passwords masked, the broker URL without its password. */
export function redactedConfig(c: Config): Record<string, unknown> {
  return {
    ...c,
    mqttPassword: c.mqttPassword ? REDACTED : '',
    mqttUrl: c.mqttUrl && c.mqttUrl !== 'none' ? redactUrl(c.mqttUrl) : c.mqttUrl,
    feeds: c.feeds.map((f) => ({ ...f, password: f.password ? REDACTED : '' })),
  }
}

/** Bad input echoed in an error reply or a log line: at most `max` characters, marked when cut. */
export function echoPrefix(input: string, max = 32): string {
  return input.length <= max ? input : `${input.slice(0, max)}…(${input.length} chars)`
}
