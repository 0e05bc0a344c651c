// The client as a package a user installs: `npm pack` in packages/client, the tarball installed offline into a temp
// project, its declarations typechecked, and it imported from Node and from a page in Chromium against a real tickcast.
import { execFile, execFileSync, execSync, spawnSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { startTickcast } from '../src/server.js'
import type { Tickcast } from '../src/server.js'
import { startInProcessSimulator } from '../test-support/embedded-simulator.js'
import { waitFor } from '../test-support/wait-for.js'

/** Runs a child without blocking this process: the tickcast it talks to lives in this event loop. */
function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

const ROOT = join(import.meta.dirname, '..')
const PKG = join(ROOT, 'packages', 'client')
const dir = mkdtempSync(join(tmpdir(), 'tickcast-client-pkg-'))
const NODE_MAJOR = Number(process.versions.node.split('.')[0])
const chromiumPath = ((): string | null => {
  try { return execSync('command -v chromium', { encoding: 'utf8', shell: '/bin/sh' }).trim() || null } catch { return null }
})()
if (!chromiumPath) console.warn('\n*** SKIPPING the client-package browser test: `chromium` is not installed (CI always runs it) ***\n')

let t: Tickcast
let symbol = ''
let tarball = ''
beforeAll(async () => {
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--sim-symbols', '20', '--sim-rate', '500'], {})
  if (cli.kind !== 'run') throw new Error('bad test config')
  t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false, startSimulator: startInProcessSimulator })
  await waitFor(() => t.symbols.size > 0 && t.lvc !== null, 10_000, 'symbols')
  symbol = t.symbols.name[0]
}, 60_000)
afterAll(async () => { await t?.stop(); rmSync(dir, { recursive: true, force: true }) })

describe('@tickcast/client package', () => {
  it('packs only built JavaScript, declarations, README and package.json', () => {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PKG, encoding: 'utf8', timeout: 120_000 })
    const info = (JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]
    tarball = join(dir, info.filename)
    const files = info.files.map((f) => f.path).sort()
    expect(files).toContain('dist/tickcast-client.js')
    expect(files).toContain('dist/tickcast-client.d.ts')
    expect(files).toContain('dist/node.js')
    expect(files).toContain('README.md')
    expect(files.filter((f) => !/^(dist\/[\w-]+\.(js|d\.ts)|README\.md|package\.json)$/.test(f))).toEqual([])
    expect(files.filter((f) => f.includes('test'))).toEqual([])
  }, 120_000)

  it('installs offline into a fresh project and typechecks a consumer against its declarations', () => {
    const project = join(dir, 'consumer')
    execFileSync('mkdir', ['-p', project])
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    execFileSync('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8', timeout: 120_000 })
    expect(existsSync(join(project, 'node_modules/@tickcast/client/dist/node.js'))).toBe(true)
    writeFileSync(join(project, 'check.ts'), [
      "import { TickcastClient, scaledToString } from '@tickcast/client'",
      "import type { QuoteEvent, SymbolState } from '@tickcast/client'",
      "const c = new TickcastClient({ url: 'ws://x/v1/stream', format: 'msgpack' })",
      'c.on(\'quote\', (q: QuoteEvent) => { const s: string = scaledToString(q.bid, 4); void s })',
      "const s: SymbolState | undefined = c.get('AAPL'); void s",
      '',
    ].join('\n'))
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [], lib: ['ES2022', 'DOM'] }, files: ['check.ts'] }))
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', timeout: 120_000 })
    expect(tsc.stdout + tsc.stderr).toBe('')
    expect(tsc.status).toBe(0)
  }, 180_000)

  it('imports from Node (the `node` entry) and receives a snapshot from a real tickcast', async () => {
    const project = join(dir, 'consumer')
    writeFileSync(join(project, 'run.mjs'), [
      "import { TickcastClient } from '@tickcast/client'",
      'const [url, symbol] = process.argv.slice(2)',
      "const c = new TickcastClient({ url, format: 'msgpack' })",
      "c.on('snapshot', (s) => { console.log(JSON.stringify({ symbol: s.symbol, n: s.n })); c.close(); process.exit(0) })",
      'c.connect(); c.subscribe([symbol])',
      "setTimeout(() => { console.error('no snapshot'); process.exit(1) }, 10000)",
      '',
    ].join('\n'))
    const flags = NODE_MAJOR < 22 ? ['--experimental-websocket', '--no-warnings'] : []
    const r = await run([...flags, 'run.mjs', t.url, symbol], project)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toMatchObject({ symbol })
    expect(readFileSync(join(project, 'node_modules/@tickcast/client/package.json'), 'utf8')).toContain('"node"')
    if (NODE_MAJOR < 22) {
      // without the flag Node 20 has no WebSocket: the node entry says so instead of failing later
      const bare = await run(['run.mjs', t.url, symbol], project)
      expect(bare.code).not.toBe(0)
      expect(bare.stderr).toContain('has no global WebSocket')
    }
  }, 30_000)

  it.runIf(chromiumPath !== null)('imports from a page in Chromium (import map to the `browser` entry) and receives a snapshot', async () => {
    const project = join(dir, 'consumer')
    writeFileSync(join(project, 'index.html'), `<!doctype html><meta charset="utf-8">
<script type="importmap">{"imports":{"@tickcast/client":"/node_modules/@tickcast/client/dist/tickcast-client.js"}}</script>
<script type="module">
import { TickcastClient } from '@tickcast/client'
const q = new URLSearchParams(location.search)
const c = new TickcastClient({ url: q.get('url'), format: 'json' })
c.on('snapshot', (s) => { window.result = { symbol: s.symbol, n: s.n }; c.close() })
c.connect(); c.subscribe([q.get('symbol')])
</script>`)
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' }
    const server: Server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
      const file = join(project, path === '/' ? 'index.html' : path)
      if (!file.startsWith(project) || !existsSync(file)) { res.writeHead(404).end(); return }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(String(e)))
      await page.goto(`http://127.0.0.1:${port}/?url=${encodeURIComponent(t.url)}&symbol=${encodeURIComponent(symbol)}`)
      await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, undefined, { timeout: 15_000 })
      expect(await page.evaluate(() => (window as { result?: unknown }).result)).toMatchObject({ symbol })
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      server.close()
    }
  }, 40_000)

  it('the root package ships the built server, not sources, tests or captures', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
    const files = (JSON.parse(out.slice(out.indexOf('['))) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path)
    expect(files).toContain('asyncapi.json')
    expect(files.filter((f) => /\.test\.|\.ts$|\.(pcap|cap|map)$|^(test-support|bench|grafana|tools|src)\/|feeds\/samples/.test(f))).toEqual([])
  }, 120_000)
})
