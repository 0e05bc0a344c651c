// Owns the process logger: pino JSON lines on stdout, one line per event that matters.
// Must never be called per message: hot paths count, and rare events log.
import { pino } from 'pino'
import type { Logger } from 'pino'

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tickcast' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['password', '*.password', 'token', '*.token', 'config.mqttPassword'],
  })
}
