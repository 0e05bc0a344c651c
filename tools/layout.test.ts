// The layout rules of issue 9, checked on every run: data flows one way through src/, src/ is the server, and every
// source file stays readable. A rule broken here is a design regression, not a style nit.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const MAX_LINES = 300

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name)
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path))
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

/** Every relative import of `file`, as a repository path (`src/fanout/hub.ts`), type-only imports included. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    out.push(relative(ROOT, join(ROOT, dirname(file), m[1])).replace(/\.js$/, '.ts'))
  }
  return out
}

const SRC = sources('src')
const area = (path: string): string => path.split('/').slice(0, 2).join('/')

describe('layout', () => {
  it('has no arrow from ingest, model, ring or cache code into the transports (fan-out, subscriptions, HTTP)', () => {
    const upstream = ['src/feed', 'src/normalize', 'src/ring', 'src/cache', 'src/model', 'src/book', 'src/codec']
    const transports = ['src/fanout', 'src/subscriptions', 'src/http']
    const arrows = SRC.filter((f) => upstream.includes(area(f)))
      .flatMap((f) => importsOf(f).filter((i) => transports.includes(area(i))).map((i) => `${f} → ${i}`))
    expect(arrows).toEqual([])
  })

  it('keeps src/ the server: it imports no upstream tool, test support or maintainer tool (main.ts may start the simulator)', () => {
    const arrows = SRC.flatMap((f) => importsOf(f).filter((i) => !i.startsWith('src/')).map((i) => `${f} → ${i}`))
    expect(arrows).toEqual(['src/main.ts → feeds/sim/embedded.ts'])
  })

  it('keeps the browser deliverable (src/client) apart: it imports only itself, and only the composition root imports it', () => {
    const client = SRC.filter((f) => f.startsWith('src/client/'))
    expect(client.flatMap((f) => importsOf(f).filter((i) => !i.startsWith('src/client/')))).toEqual([])
    const into = SRC.filter((f) => !f.startsWith('src/client/')).flatMap((f) => importsOf(f).filter((i) => i.startsWith('src/client/')).map((i) => `${f} → ${i}`))
    expect(into).toEqual(['src/main.ts → src/client/page/page-html.ts'])
  })

  it(`keeps every source file in src/ under ${MAX_LINES} lines`, () => {
    const long = SRC.map((f) => [f, readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > MAX_LINES)
    expect(long).toEqual([])
  })

  it('finds the imports it checks (the rules are not vacuous)', () => {
    expect(importsOf('src/fanout/dispatcher.ts')).toContain('src/ring/ring-buffer.ts')
    expect(SRC.length).toBeGreaterThan(50)
  })
})
