// Owns `npm run bench:saturation`: parse flags, run, print the summary, optionally regenerate README's section.
// Must never leave a process behind: every child is stopped on any exit (deadline, signal, error).
import { readFileSync } from 'node:fs'
import { stopAll } from '../lib/procs.js'
import { SATURATION_USAGE, parseSaturationArgs } from './options.js'
import { writeReadmeSection } from './readme.js'
import { consoleSummary } from './report.js'
import type { SaturationResult } from './results.js'
import { runSaturation } from './run.js'
import { summarize } from './summary.js'

async function main(argv: string[]): Promise<number> {
  const p = parseSaturationArgs(argv)
  if (!p.ok) { process.stderr.write(p.errors.map((e) => `error: ${e}`).join('\n') + '\n\n' + SATURATION_USAGE); return 2 }
  if (p.help) { process.stdout.write(SATURATION_USAGE); return 0 }
  const o = p.opts
  if (p.from) { // re-render a saved run: the summary and, with --readme, README's section
    const res = JSON.parse(readFileSync(p.from, 'utf8')) as SaturationResult
    res.summary = summarize(res.runs, res.idle, res.options) // derived again: a saved run gains later summary rules
    console.log(consoleSummary(res))
    if (p.readme) { writeReadmeSection(res); console.log(`README.md: benchmark section regenerated from ${p.from}`) }
    return 0
  }
  const hard = setTimeout(() => { console.error(`bench:saturation: over --max-sec ${o.maxSec} + 60 s, stopping`); void stopAll().then(() => process.exit(1)) }, (o.maxSec + 60) * 1000)
  hard.unref()
  const res = await runSaturation(o, `npm run bench:saturation${argv.length ? ' -- ' + argv.join(' ') : ''}`)
  console.log(consoleSummary(res))
  console.log(`\nresults: ${o.out}`)
  if (p.readme) {
    writeReadmeSection(res)
    console.log('README.md: benchmark section regenerated')
  }
  return 0
}

const bail = (code: number): void => { void stopAll().then(() => process.exit(code)) }
process.once('SIGINT', () => bail(130))
process.once('SIGTERM', () => bail(143))
main(process.argv.slice(2)).then(async (code) => { await stopAll(); process.exit(code) }, async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
