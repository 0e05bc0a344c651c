// The README is the front door: its generated sections must match the code they describe
// (regenerate them with `npm run docs:readme`).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { markdownTable } from '../src/config.js'
import { metricTable, replaceSection } from './readme-sections.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README', () => {
  it('lists every configuration option exactly as the code defines it', () => {
    expect(replaceSection(readme, 'config-table', markdownTable())).toBe(readme)
  })

  it('lists exactly the metrics tickcast registers, with their types and labels', async () => {
    expect(replaceSection(readme, 'metric-list', await metricTable())).toBe(readme)
  })
})
