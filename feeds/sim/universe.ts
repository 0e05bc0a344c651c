// Owns the simulator's symbol universe file: `symbol,price,name` CSV rows, in activity order (busiest first).
// Must never be read on the hot path: it is parsed once at start, and a bad file is a boot error.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bootError } from '../../src/errors.js'
import { SYMBOL_PATTERN } from '../../src/model/symbols.js'

export interface UniverseRow {
  symbol: string
  /** typical price in dollars: the random walk starts there, and it picks the tick size */
  price: number
  name: string
}

const HEADER = 'symbol,price,name'

/**
 * Parses the CSV. Row order matters: the generator gives row i the i-th largest activity weight, so
 * the file lists symbols roughly by real trading activity. Names may not contain commas.
 */
export function parseUniverse(text: string): UniverseRow[] {
  const lines = text.split(/\r?\n/)
  if (lines[0].trim() !== HEADER) throw bootError('UNIVERSE_HEADER', `expected "${HEADER}", got "${lines[0]}"`)
  const rows: UniverseRow[] = [], seen = new Set<string>(), problems: string[] = []
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '') continue
    const [symbol, priceText, ...rest] = line.split(',')
    const price = Number(priceText)
    if (!SYMBOL_PATTERN.test(symbol)) problems.push(`line ${i + 1}: bad symbol "${symbol}"`)
    else if (!(price > 0 && price < 1e6)) problems.push(`line ${i + 1}: bad price "${priceText}"`)
    else if (seen.has(symbol)) problems.push(`line ${i + 1}: duplicate symbol ${symbol}`)
    else { seen.add(symbol); rows.push({ symbol, price, name: rest.join(',') }) }
  }
  if (problems.length > 0) throw bootError('UNIVERSE_ROWS', problems.join('; '))
  if (rows.length === 0) throw bootError('UNIVERSE_EMPTY', 'no symbols')
  return rows
}

/**
 * The bundled universe: next to the sources (feeds/symbols/) or, from dist/feeds/sim/, three levels up
 * (tsc does not copy CSV files into dist/).
 */
export function defaultUniversePath(): string {
  const candidates = ['../symbols/us-equities.csv', '../../../feeds/symbols/us-equities.csv']
  for (const c of candidates) {
    const p = fileURLToPath(new URL(c, import.meta.url))
    if (existsSync(p)) return p
  }
  return fileURLToPath(new URL(candidates[0], import.meta.url))
}

export function loadUniverse(path = defaultUniversePath()): UniverseRow[] {
  let text: string
  try { text = readFileSync(path, 'utf8') } catch (e) { throw bootError('UNIVERSE_READ', `${path}: ${(e as Error).message}`) }
  return parseUniverse(text)
}
