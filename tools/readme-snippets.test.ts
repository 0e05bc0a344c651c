// Every fenced block of the README, run as a reader would run it, on Node 20 and on Node 22: `npm start` and its
// banner, the curl lines, the "from Node" snippet, the client library snippet, the roles file and the mosquitto ACL.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { connectAsync } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveText } from '../bench/cli/live.js'
import { parseOptions } from '../bench/cli/options.js'
import { findScenario } from '../bench/cli/registry.js'
import { parseThreshold } from '../bench/cli/thresholds.js'
import { parseRolesFile } from '../src/auth/roles.js'
import { forBroker, mosquittoAvailable } from '../test-support/mosquitto.js'
import { nodeBinary } from '../test-support/node-versions.js'
import { freePort, killOnExit } from '../test-support/processes.js'
import { waitFor } from '../test-support/wait-for.js'

const ROOT = join(import.meta.dirname, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

interface Block { lang: string; text: string; line: number }
const blocks: Block[] = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)]
  .map((m) => ({ lang: m[1], text: m[2], line: README.slice(0, m.index).split('\n').length }))

/** Each block is claimed by one runner below, by its opening line; a new block fails the first test until it is run. */
const CLAIMS: Record<string, (b: Block) => boolean> = {
  start: (b) => b.lang === 'sh' && b.text.startsWith('npm install && npm start'),
  banner: (b) => b.lang === '' && b.text.startsWith('tickcast ready'),
  fromNode: (b) => b.lang === 'js' && b.text.includes("new WebSocket('ws://127.0.0.1:8080/v1/stream')"),
  client: (b) => b.lang === 'ts' && b.text.startsWith('import { TickcastClient }'),
  roles: (b) => b.lang === 'json' && b.text.startsWith('{ "roles"'),
  acl: (b) => b.lang === '' && b.text.startsWith('# mosquitto.conf'),
  benchCommands: (b) => b.lang === '' && b.text.startsWith('npm run bench -- '),
  benchLive: (b) => b.lang === '' && b.text.startsWith('[='),
  // not a snippet: the data-flow diagram
  diagram: (b) => b.lang === '' && b.text.startsWith('TCP feed sessions'),
}
const block = (claim: string): Block => blocks.find(CLAIMS[claim])!

const haveMosquitto = await mosquittoAvailable()
const fetchNodes = Boolean(process.env.CI)
const NODES = [20, 22].map((major) => ({ major, bin: nodeBinary(major, fetchNodes) }))
for (const n of NODES) {
  if (n.bin !== null) continue
  if (process.env.CI) throw new Error(`Node ${n.major} is required in CI (npx -y node@${n.major})`)
  console.warn(`\n*** README snippets on Node ${n.major} SKIPPED: no node ${n.major} (run \`npx -y node@${n.major} --version\` once to cache it) ***\n`)
}

const children: ChildProcess[] = []
function stopChild(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((r) => p.once('exit', () => r()))
  try { process.kill(-p.pid!, 'SIGTERM') } catch { /* already gone */ }
  return exited
}
afterAll(async () => { for (const p of children.splice(0)) await stopChild(p) })

/** Runs `cmd` with `node` of the given binary first on PATH (npm, its scripts and `node` all resolve to it). */
function run(bin: string, cmd: string, args: string[], env: Record<string, string> = {}): { p: ChildProcess; out: () => string } {
  const p = spawn(cmd, args, { cwd: ROOT, detached: true, env: { ...process.env, ...env, PATH: dirname(bin) + delimiter + process.env.PATH } })
  killOnExit(p); children.push(p)
  let out = ''
  p.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  p.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  return { p, out: () => out }
}

/** The snippet with the README's fixed port replaced by the one the test server got. */
const onPort = (text: string, port: number): string => text.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)

beforeAll(() => {
  // `npm start` compiles only when a source changed: do that once here, so each start below is a start
  execFileSync(process.execPath, ['tools/build-if-stale.mjs'], { cwd: ROOT, stdio: 'ignore', timeout: 170_000 })
}, 180_000)

describe('README snippets', () => {
  it('every fenced block is claimed by exactly one runner', () => {
    for (const b of blocks) {
      const claims = Object.keys(CLAIMS).filter((k) => CLAIMS[k](b))
      expect(claims, `README line ${b.line}: a block this test does not run`).toHaveLength(1)
    }
    expect(Object.keys(CLAIMS).filter((k) => !blocks.some(CLAIMS[k])), 'claims without a block').toEqual([])
  })

  it('the roles file parses into the roles it describes', () => {
    const roles = parseRolesFile(block('roles').text)
    expect([...roles.keys()]).toEqual(['pro', 'nonpro', 'tech'])
    expect(roles.get('nonpro')?.maxHz).toBe(1)
    expect(roles.get('tech')?.symbols).toEqual(['AAPL', 'MS*'])
  })

  for (const { major, bin } of NODES) {
    it.runIf(bin !== null)(`on Node ${major}: npm start prints the banner, then curl, "from Node" and the client library work against it`, async () => {
      const version = execFileSync(bin!, ['--version'], { encoding: 'utf8' }).trim()
      expect(version.startsWith(`v${major}.`)).toBe(true)
      // `npm start` exactly as the README's first block says (`npm install` and `npm test` are CI's own steps), on a
      // free port instead of 8080 (a shared machine) through the documented environment variable
      const startLine = block('start').text.split('\n')[0]
      expect(startLine).toMatch(/^npm install && npm start\s/)
      const srv = run(bin!, 'npm', ['start'], { TICKCAST_PORT: '0' })
      await waitFor(() => /^ {2}MQTT {7}.*\n/m.test(srv.out()) || srv.p.exitCode !== null, 20_000, `the banner (have: ${srv.out()})`)
      const want = block('banner').text.trimEnd().split('\n')
      const banner = srv.out().slice(/^tickcast (ready|started)/m.exec(srv.out())?.index ?? 0).split('\n').slice(0, want.length)
      const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\//.exec(banner[2])![1])
      // the same lines; only the ports differ (8080 and the embedded broker's are free ports here)
      const norm = (l: string): string => l.replace(/:\d+\b/g, ':PORT')
      expect(banner.map(norm)).toEqual(want.map(norm))

      // `curl 127.0.0.1:8080/v1/snapshot/AAPL` and `curl -I 127.0.0.1:8080/healthz`
      expect(README).toContain('`curl 127.0.0.1:8080/v1/snapshot/AAPL`')
      await waitFor(() => { try { return execFileSync('curl', ['-s', `127.0.0.1:${port}/v1/snapshot/AAPL`], { encoding: 'utf8' }).includes('"p":') } catch { return false } }, 5000, 'AAPL traded')
      expect(JSON.parse(execFileSync('curl', ['-s', `127.0.0.1:${port}/v1/snapshot/AAPL`], { encoding: 'utf8' }))).toMatchObject({ e: 'snap', s: 'AAPL' })
      expect(README).toContain('`curl -I 127.0.0.1:8080/healthz`')
      const head = execFileSync('curl', ['-sI', `127.0.0.1:${port}/healthz`], { encoding: 'utf8' })
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(head).toMatch(/\r\nContent-Length: 2\r\n/i)
      expect(head).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i)

      // "from Node": an ES module, as the README says, on this Node (global WebSocket on 22, the ws package on 20)
      const fromNode = run(bin!, bin!, ['--input-type=module', '-e', onPort(block('fromNode').text, port)])
      await waitFor(() => /"e":"snap","s":"AAPL"/.test(fromNode.out()) && /"e":"q","s":"AAPL"/.test(fromNode.out()), 10_000, `snapshot then quotes (have: ${fromNode.out().slice(0, 300)})`)
      await stopChild(fromNode.p)

      // the client library snippet, importing the compiled module (the snippet names the TypeScript source)
      const client = onPort(block('client').text, port).replace("'./src/client/tickcast-client.js'", "'./dist/src/client/tickcast-client.js'")
      const lib = run(bin!, bin!, ['--input-type=module', '-e', client])
      await waitFor(() => /^AAPL \d/m.test(lib.out()) && /^MSFT \d/m.test(lib.out()), 10_000, `quotes printed by the client (have: ${lib.out().slice(0, 300)})`)
      expect(lib.out()).not.toMatch(/Error/)
      await stopChild(lib.p)
      await stopChild(srv.p)
    }, 60_000)
  }

  it.runIf(haveMosquitto)('the mosquitto ACL: tickcast publishes everything, alice reads AAPL and never MSFT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-readme-acl-'))
    const port = await freePort()
    try {
      writeFileSync(join(dir, 'acl'), block('acl').text)
      execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'tickcast', 'pub-secret'])
      execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), 'alice', 'alice-secret'])
      // the block's first line names the settings it goes with
      expect(block('acl').text).toMatch(/^# mosquitto\.conf: allow_anonymous false, password_file \S+, acl_file \S+/)
      forBroker(dir)
      writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${join(dir, 'passwd')}`, `acl_file ${join(dir, 'acl')}`, ''].join('\n'))
      const broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
      killOnExit(broker); children.push(broker)
      let brokerLog = ''
      broker.stderr.on('data', (d: Buffer) => { brokerLog += d.toString() })
      const url = `mqtt://127.0.0.1:${port}`
      let alice = null
      for (let k = 0; k < 50 && alice === null; k++) {
        alice = await connectAsync(url, { username: 'alice', password: 'alice-secret', reconnectPeriod: 0, connectTimeout: 1000 }).catch(() => null)
        if (alice === null) await new Promise((r) => setTimeout(r, 100))
      }
      expect(alice, `alice cannot connect; mosquitto says: ${brokerLog}`).not.toBeNull()
      const got: string[] = []
      alice!.on('message', (t) => { got.push(t) })
      await alice!.subscribeAsync('md/v1/#')
      const pub = await connectAsync(url, { username: 'tickcast', password: 'pub-secret', reconnectPeriod: 0 })
      await pub.publishAsync('md/v1/quotes/MSFT', 'm', { qos: 1 })
      await pub.publishAsync('md/v1/quotes/AAPL', 'a', { qos: 1 })
      await pub.publishAsync('md/v1/trades/AAPL', 't', { qos: 1 })
      await waitFor(() => got.length >= 1, 3000, 'alice gets AAPL')
      await new Promise((r) => setTimeout(r, 200))
      expect(got).toEqual(['md/v1/quotes/AAPL'])
      await pub.endAsync(); await alice!.endAsync()
      await stopChild(broker)
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('the bench CLI commands name real scenarios, options and thresholds', () => {
    const lines = block('benchCommands').text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s{2,}#.*$/, '').trim()).filter(Boolean)
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) {
      // shell words: quotes group, $VAR stays literal
      const words = [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3])
      const at = words[0] === 'npm' ? 4 : 2
      expect(words.slice(0, at).join(' '), line).toMatch(/^(npm run bench --|npx tickcast-bench)$/)
      const [cmd, ...args] = words.slice(at)
      if (cmd === 'merge') { expect(args.filter((a) => a.endsWith('.json')).length, line).toBeGreaterThanOrEqual(2); continue }
      const scenario = findScenario(cmd)
      expect(scenario, line).toBeDefined()
      const parsed = parseOptions(args, scenario!)
      expect(parsed.ok ? 'ok' : parsed.error, line).toBe('ok')
      if (parsed.ok) for (const t of parsed.thresholds) expect(() => parseThreshold(t), line).not.toThrow()
    }
  })

  it("the bench live line is the CLI's own format", () => {
    const line = block('benchLive').text.trim()
    const m = /^\[[=> ]{20}\] +\d+% \d+s\/\d+s {2}(.*)$/.exec(line)
    expect(m, line).not.toBeNull()
    const n = /conns ([\d,]+) {2}updates\/s ([\d,]+) {2}p50 ([\d.]+) ms {2}p99 ([\d.]+) ms {2}errors (\d+)(?: {2}(.*))?$/.exec(m![1])!
    const num = (s: string): number => Number(s.replace(/,/g, ''))
    expect(liveText({ t: 0, connections: num(n[1]), updatesPerSec: num(n[2]), p50Ms: num(n[3]), p99Ms: num(n[4]), errors: num(n[5]) }, n[6] ?? '')).toBe(m![1])
  })
})
