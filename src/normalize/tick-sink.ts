// Owns the contract between every payload decoder (native, ITCH, TOPS) and the normalizer.
// Must never expose the ring: decoders speak venue terms (locate codes, mantissas), nothing downstream.
import type { DecodeStatus } from '../errors.js'

/**
 * What a decoder calls for each decoded event. `locate` is the venue's own instrument id (native
 * locate, ITCH stock locate, TOPS directory index); prices and sizes are integer mantissas in the
 * exponents given to defineSymbol, already range-checked by the decoder (|m| ≤ 2^53 - 1: the normalizer
 * re-checks only values it has to rescale). Times are exchange timestamps in µs since the Unix epoch.
 * Every method returns a DecodeStatus (DECODE_OK, DECODE_UNKNOWN_SYMBOL, DECODE_BAD_VALUE).
 */
export interface TickSink {
  defineSymbol(locate: number, name: string, priceExponent: number, sizeExponent: number): DecodeStatus
  /** Resolves a symbol name for feeds without a directory (TOPS names the symbol in every message). */
  locateOf(name: string, priceExponent: number, sizeExponent: number): number
  quote(locate: number, exchTimeUs: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, flags: number): DecodeStatus
  trade(locate: number, exchTimeUs: number, price: number, size: number, tradeId: number, side: number): DecodeStatus
  /** `code` is an ASCII byte: 'T' trading, 'H' halted, 'P' paused, 'Q' quotation only, 'C' closed */
  status(locate: number, exchTimeUs: number, code: number): DecodeStatus
  /** Order-book feeds (ITCH): the book of `locate` is synced (reason 0) or partial (PARTIAL_*, model/book-state.ts). */
  bookState?(locate: number, reason: number): void
}

/** A payload decoder for one feed session: consumes one sequenced message at a time. */
export interface PayloadDecoder {
  /** `buf[off, off + len)` is one SoupBinTCP sequenced payload (or one capture message). */
  decode(buf: Buffer, off: number, len: number): DecodeStatus
}
