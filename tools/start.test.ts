// `npm start` as tools/start.mjs runs it: the build step, then the server in the same process with the arguments given.
// On a real temporary TypeScript project (the real build-if-stale, bundle and start scripts copied in), then on this repository.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'tickcast-start-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function start(cwd: string, args: string[]): { code: number; out: string; pid: number } {
  const r = spawnSync(process.execPath, ['tools/start.mjs', ...args], {
    cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TICKCAST_BUILD_VERBOSE: '1' },
  })
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`, pid: r.pid ?? -1 }
}

beforeAll(() => {
  // the repository's own dist must be current for the second test, as `npm start` would leave it
  execFileSync(process.execPath, ['tools/build-if-stale.mjs'], { cwd: ROOT, stdio: 'ignore', timeout: 170_000 })
}, 180_000)

describe('npm start (tools/start.mjs)', () => {
  it('builds only when a source changed, then runs main in the same process with the arguments', () => {
    mkdirSync(join(dir, 'tools'))
    for (const f of ['start.mjs', 'build-if-stale.mjs', 'start-bundle.mjs']) copyFileSync(join(ROOT, 'tools', f), join(dir, 'tools', f))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
    writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'dist', rootDir: '.', types: [] },
      include: ['src'],
    }))
    mkdirSync(join(dir, 'src'))
    const main = join(dir, 'src/main.ts')
    writeFileSync(main, 'declare const process: { argv: string[]; pid: number; stdout: { write(s: string): void } }\n'
      + 'process.stdout.write(`main v1 ${JSON.stringify(process.argv.slice(2))} pid ${process.pid}\\n`)\n')
    const old = Date.now() / 1000 - 60
    utimesSync(main, old, old)

    const first = start(dir, ['--port', '0'])
    expect(first.out).toContain('build: compiled')
    expect(first.out).toContain(`main v1 ["--port","0"] pid ${first.pid}`) // the pid spawned: no second node
    expect(first.out).toContain('bundle: made')
    expect(first.code).toBe(0)
    const built = statSync(join(dir, 'dist/src/main.js')).mtimeMs
    // what runs is the bundle (dist/start/), not the compiled tree: marked here, the mark shows
    const bundled = join(dir, 'dist/start/main.js')
    writeFileSync(bundled, `${readFileSync(bundled, 'utf8')}\nprocess.stdout.write('(bundled)\\n')\n`)

    const again = start(dir, ['--help'])
    expect(again.out).toContain('build: up to date')
    expect(again.out).not.toContain('build: compiled')
    expect(again.out).toContain(`main v1 ["--help"] pid ${again.pid}`)
    expect(again.out).toContain('bundle: up to date')
    expect(again.out).toContain('(bundled)')
    expect(statSync(join(dir, 'dist/src/main.js')).mtimeMs).toBe(built)

    // an edit rebuilds, and the new code is what runs
    writeFileSync(main, readFileSync(main, 'utf8').replace('main v1', 'main v2'))
    const edited = start(dir, [])
    expect(edited.out).toContain('build: compiled')
    expect(edited.out).toContain('bundle: made')
    expect(edited.out).toContain('main v2 []')
    expect(edited.out).not.toContain('(bundled)')

    // a compiled module changed behind the build's back (no source edit): the bundle is remade from it
    const js = join(dir, 'dist/src/main.js')
    writeFileSync(js, readFileSync(js, 'utf8').replace('main v2', 'main v3'))
    const touched = start(dir, [])
    expect(touched.out).toContain('build: up to date')
    expect(touched.out).toContain('bundle: made')
    expect(touched.out).toContain('main v3 []')

    // a dependency installed or upgraded (npm rewrites the lockfiles): the bundle, which holds dependencies, is remade
    writeFileSync(join(dir, 'package-lock.json'), '{}')
    const installed = start(dir, [])
    expect(installed.out).toContain('bundle: made')
    expect(installed.out).toContain('main v3 []')
    expect(start(dir, []).out).toContain('bundle: up to date')

    // a failed build stops there: the stale main never runs
    writeFileSync(main, 'export const x: number = "no"\n')
    const bad = start(dir, [])
    expect(bad.code).not.toBe(0)
    expect(bad.out).toContain('TS2322')
    expect(bad.out).not.toContain('main v')
  }, 240_000)

  it('is what `npm start` runs here, and a built tree does not rebuild', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(pkg.scripts.start).toBe('node tools/start.mjs')
    const r = spawnSync('npm', ['start', '--silent', '--', '--version'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TICKCAST_BUILD_VERBOSE: '1' },
    })
    expect(`${r.stdout}${r.stderr}`).toContain('build: up to date')
    expect(`${r.stdout}${r.stderr}`).toMatch(/bundle: (up to date|made in)/)
    expect(r.stdout).toMatch(/^tickcast \d+\.\d+\.\d+\n$/)
    expect(r.status).toBe(0)
  }, 90_000)
})
