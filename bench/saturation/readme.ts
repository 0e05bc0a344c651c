// Owns regenerating README.md's benchmark section (markers `saturation:start` / `saturation:end`) from a result.
// Must never touch any other part of README: replaceSection (tools/readme-sections.ts) swaps only that section.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { replaceSection } from '../../tools/readme-sections.js'
import { readmeSection } from './report.js'
import type { SaturationResult } from './results.js'

/** the checkout's README, from this file's compiled place (dist/bench/saturation/) */
export const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url))

export function writeReadmeSection(res: SaturationResult, path = README_PATH): void {
  writeFileSync(path, replaceSection(readFileSync(path, 'utf8'), 'saturation', readmeSection(res)))
}
