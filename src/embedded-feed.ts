// Owns the seam through which the composition root hands startTickcast a feed simulator for embedded mode.
// Must never import feeds/: src/ knows only this shape; main.ts passes feeds/sim/embedded.ts, tests their own.

/** What startTickcast asks of an embedded simulator: the universe and rate come from Config (--sim-*). */
export interface EmbeddedSimulatorOptions {
  /** 0 = an ephemeral loopback port (see EmbeddedSimulator.port) */
  port: number
  symbols: number
  /** messages per second */
  rate: number
  seed: number
}

/** A running simulator: a real SoupBinTCP server on loopback that tickcast connects to like to any feed. */
export interface EmbeddedSimulator {
  readonly port: number
  /** Idempotent: ends the session and frees the port. */
  stop(): Promise<void>
}

export type StartSimulator = (opts: EmbeddedSimulatorOptions) => Promise<EmbeddedSimulator>
