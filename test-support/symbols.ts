// Owns building symbol tables for unit tests, the way the pipeline does: ingest adds to the shared store, a consumer learns.
// Must never be imported by product code: the server learns symbols only from KIND_SYMBOL events in the ring.
import { SharedSymbols } from '../src/model/shared-symbols.js'
import { SymbolTable } from '../src/model/symbols.js'

/** A consumer-side table that has learned `names` (ids 0..n-1 in order), all with `priceExponent`. */
export function symbolTable(names: readonly string[], capacity = 64, priceExponent = -4): SymbolTable {
  const table = new SymbolTable(new SharedSymbols(capacity))
  for (const n of names) addSymbol(table, n, priceExponent)
  return table
}

/** Adds `name` to the table's shared store (as ingest would) and learns it (as the consumer would on KIND_SYMBOL). */
export function addSymbol(table: SymbolTable, name: string, priceExponent = -4, sizeExponent = 0): number {
  const id = table.shared.add(name, priceExponent, sizeExponent)
  if (id >= 0) table.learnUpTo(id)
  return id
}
