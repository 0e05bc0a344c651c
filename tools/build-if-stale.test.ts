// `npm start`'s build step on a real temporary TypeScript project: it compiles when an input is newer, added or
// removed, skips tsc when nothing changed, and never records a failed build as good.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const SCRIPT = join(import.meta.dirname, 'build-if-stale.mjs')
const dir = mkdtempSync(join(tmpdir(), 'tickcast-build-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(): { code: number; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TICKCAST_BUILD_VERBOSE: '1' } })
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}
/** Writes a source with an mtime `ageSec` in the past (0 = now), as an editor or a checkout would. */
function write(rel: string, text: string, ageSec = 0): void {
  const path = join(dir, rel)
  writeFileSync(path, text)
  const t = Date.now() / 1000 - ageSec
  utimesSync(path, t, t)
}

describe('build-if-stale', () => {
  it('compiles only when sources changed', () => {
    symlinkSync(join(import.meta.dirname, '..', 'node_modules'), join(dir, 'node_modules'))
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
    writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'dist', rootDir: '.', types: [] },
      include: ['src'],
    }))
    mkdirSync(join(dir, 'src'))
    write('src/a.ts', 'export const a: number = 1\n', 60)

    const first = run()
    expect(first.out).toContain('build: compiled')
    expect(first.code).toBe(0)
    expect(readFileSync(join(dir, 'dist/src/a.js'), 'utf8')).toContain('a = 1')
    const built = statSync(join(dir, 'dist/src/a.js')).mtimeMs

    const again = run()
    expect(again.out).toContain('build: up to date')
    expect(statSync(join(dir, 'dist/src/a.js')).mtimeMs).toBe(built)

    write('src/a.ts', 'export const a: number = 2\n')
    expect(run().out).toContain('build: compiled')
    expect(readFileSync(join(dir, 'dist/src/a.js'), 'utf8')).toContain('a = 2')

    // a file added with an old mtime (a checkout, a copy -p) still rebuilds: the file list is part of the stamp
    write('src/b.ts', 'export const b = 3\n', 3600)
    expect(run().out).toContain('build: compiled')
    expect(readFileSync(join(dir, 'dist/src/b.js'), 'utf8')).toContain('b = 3')
    unlinkSync(join(dir, 'src/b.ts'))
    expect(run().out).toContain('build: compiled')
    expect(run().out).toContain('build: up to date')

    // a type error fails the step and is not recorded as a good build
    write('src/a.ts', 'export const a: number = "x"\n')
    const bad = run()
    expect(bad.code).not.toBe(0)
    expect(bad.out).toContain('TS2322')
    expect(run().code).not.toBe(0)
  }, 120_000)
})
