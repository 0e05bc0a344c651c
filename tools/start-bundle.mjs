// Owns `npm start`'s bundle: the compiled server (dist/src/main.js and its worker threads' entries) as a few files in
// dist/start/, so a start loads ~4 modules instead of ~400 (measured: half of start-up was Node resolving and
// linking them; see README, "npm start"). Must never be used stale: it is remade whenever
// an input it was made from (a compiled module, a dependency, this script) is newer than it, and never replaces
// dist/src/main.js (the container, the tests and `node dist/src/main.js` run the compiled tree as before).
// Plain JavaScript: it runs before anything is compiled. tools/start.mjs calls startBundle() after buildIfStale().
import process from 'node:process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Entry name → compiled module. The workers are entries of their own: a thread loads its bundle, not ~100 files. */
const ENTRIES = {
  main: 'dist/src/main.js',
  'ingest-worker': 'dist/src/ingest/ingest-worker.js',
  'fanout-worker': 'dist/src/fanout/fanout-worker.js',
  'sim-worker': 'dist/feeds/sim/sim-worker.js',
}
/** Native addons (and what loads them by path) stay where npm put them. */
const EXTERNAL = ['uWebSockets.js']
const OUT = 'dist/start'
const STAMP = 'dist/start/.stamp.json'
/** stands for the bundle's own import.meta.url while a module's own is being rewritten */
const BUNDLE_URL = '__tickcast_bundle_import_meta_url__'

/**
 * The bundle's entry (dist/start/main.js) when it is current or could be made now; null when bundling is unavailable
 * (no rolldown: a production install) or failed, and the caller runs dist/src/main.js. Call after buildIfStale().
 */
export async function startBundle(rootDir) {
  const root = resolve(rootDir)
  const entry = join(root, OUT, 'main.js')
  if (isFresh(root)) {
    if (process.env.TICKCAST_BUILD_VERBOSE) process.stderr.write('bundle: up to date\n')
    return entry
  }
  const require = createRequire(join(root, 'package.json'))
  let rolldown
  try { ({ rolldown } = await import(pathToFileURL(require.resolve('rolldown')).href)) } catch {
    if (process.env.TICKCAST_BUILD_VERBOSE) process.stderr.write('bundle: rolldown not installed, running dist/src/main.js\n')
    return null
  }
  const started = Date.now()
  try {
    await bundle(root, rolldown)
  } catch (e) {
    // eslint-disable-next-line no-control-regex -- rolldown colours its messages
    const why = String(e.message).replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(0, 4).join(' ')
    process.stderr.write(`bundle: failed, running dist/src/main.js (${why})\n`)
    rmSync(join(root, STAMP), { force: true })
    return null
  }
  process.stderr.write(`bundle: made in ${Date.now() - started} ms\n`)
  return entry
}

/** The stamp lists every file the bundle was made from; any of them (or this script) newer than the stamp → stale. */
function isFresh(root) {
  let stamp
  try { stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8')) } catch { return false }
  const made = stamp.madeMs
  if (typeof made !== 'number' || !Array.isArray(stamp.inputs) || !Array.isArray(stamp.outputs) || !Array.isArray(stamp.absent)) return false
  for (const f of stamp.absent) if (existsSync(join(root, f))) return false
  for (const o of stamp.outputs) if (!existsSync(join(root, OUT, o))) return false
  for (const f of stamp.inputs) {
    let st
    try { st = statSync(join(root, f)) } catch { return false } // removed: its importer changed too, but be sure
    if (st.mtimeMs > made) return false
  }
  return true
}

/**
 * Each first-party module keeps its own import.meta.url (the page's files, package.json, the .git lookup are found
 * next to the compiled module, as before), except `new URL('./x-worker.js', import.meta.url)` naming a bundled entry,
 * which points at that entry's bundle beside the main one.
 */
function keepOwnUrl(root) {
  const dist = join(root, 'dist') + sep
  const out = join(root, OUT)
  const byPath = new Map(Object.entries(ENTRIES).map(([name, p]) => [join(root, p), name]))
  return {
    name: 'tickcast-keep-import-meta-url',
    transform(code, id) {
      if (!id.startsWith(dist) || !code.includes('import.meta.url')) return null
      const own = JSON.stringify(relative(out, id).split(sep).join('/'))
      const next = code
        .replace(/new URL\((['"])(\.{1,2}\/[^'"]+)\1, import\.meta\.url\)/g, (m, _q, rel) => {
          const name = byPath.get(resolve(dirname(id), rel))
          return name !== undefined ? `new URL(${JSON.stringify(`./${name}.js`)}, ${BUNDLE_URL})` : m
        })
        .replaceAll('import.meta.url', `new URL(${own}, import.meta.url).href`)
        .replaceAll(BUNDLE_URL, 'import.meta.url')
      return { code: next, map: null }
    },
  }
}

async function bundle(root, rolldown) {
  // a tree without a worker (tools/start.test.ts's toy project) bundles what it has
  const input = Object.fromEntries(Object.entries(ENTRIES).map(([name, p]) => [name, join(root, p)]).filter(([, p]) => existsSync(p)))
  const madeMs = Date.now() // before reading: an input rewritten while bundling is newer, and remakes it next time
  const tmp = join(root, `${OUT}.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  const build = await rolldown({
    input, platform: 'node', external: EXTERNAL, plugins: [keepOwnUrl(root)], logLevel: 'silent',
    // the sources' own order of side effects (the simulator's thread starts before the server's modules load)
    treeshake: { moduleSideEffects: true },
  })
  let result
  try {
    result = await build.write({ dir: tmp, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunk-[hash].js' })
  } finally { await build.close() }
  const outputs = result.output.map((o) => o.fileName)
  // an input absent now and present later (a first lockfile) remakes the bundle too
  const maybe = ['tools/start-bundle.mjs', 'package-lock.json', 'node_modules/.package-lock.json']
  const absent = maybe.filter((f) => !existsSync(join(root, f)))
  const inputs = new Set(maybe.filter((f) => !absent.includes(f)))
  for (const o of result.output) {
    for (const id of o.type === 'chunk' ? o.moduleIds : []) {
      const rel = relative(root, id)
      // dependencies are covered by the lockfiles (npm rewrites node_modules/.package-lock.json on every install)
      if (!rel.startsWith('..') && !rel.includes('node_modules') && !id.startsWith('\0') && existsSync(id)) inputs.add(rel)
    }
  }
  writeFileSync(join(tmp, '.stamp.json'), JSON.stringify({ madeMs, inputs: [...inputs].sort(), absent, outputs }))
  // replaced whole: a start never sees half an old bundle and half a new one
  rmSync(join(root, OUT), { recursive: true, force: true })
  mkdirSync(dirname(join(root, OUT)), { recursive: true })
  renameSync(tmp, join(root, OUT))
}

