#!/usr/bin/env node
// Owns `npm start`'s build step: runs tsc (tsconfig.build.json) only when a source changed since the last good build.
// Must never skip a build it cannot prove unneeded: any newer, added or removed input file, or a failed build, rebuilds.
// Plain JavaScript on purpose: it has to run before anything is compiled. Usage: node tools/build-if-stale.mjs [root];
// tools/start.mjs (`npm start`) calls buildIfStale() in the process that then runs the server.
import process from 'node:process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Builds `root` when an input changed since the last good build; returns the exit status (0 = dist is current).
 * tsc's output goes to this process's stdout/stderr; "build: up to date" only with TICKCAST_BUILD_VERBOSE.
 */
export function buildIfStale(rootDir) {
  const root = resolve(rootDir)
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'))
  const stamp = join(root, 'dist', '.build-stamp')

  /** Every input that can change the output: the included trees (tests too: cheap, and safe) and the configs. */
  const inputs = () => {
    const files = ['tsconfig.build.json', 'tsconfig.json', 'package.json'].filter((f) => existsSync(join(root, f)))
    const walk = (dir) => {
      for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
        const rel = join(dir, e.name)
        if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'results') walk(rel) } else if (/\.(ts|json)$/.test(e.name)) files.push(rel)
      }
    }
    for (const dir of config.include ?? []) if (existsSync(join(root, dir))) walk(dir)
    return files.sort()
  }

  const files = inputs()
  // the file list is part of the stamp: a removed or renamed file (old mtime) must rebuild too
  const listHash = createHash('sha256').update(files.join('\n')).digest('hex')
  let newest = 0
  for (const f of files) newest = Math.max(newest, statSync(join(root, f)).mtimeMs)

  const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === listHash && statSync(stamp).mtimeMs >= newest
  if (fresh) {
    if (process.env.TICKCAST_BUILD_VERBOSE) process.stderr.write('build: up to date\n')
    return 0
  }
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc')
  // the stamp takes the build's start time: an edit made while tsc runs is newer than it and rebuilds next time. (A
  // filesystem with 1 s mtimes could hide an edit made in the build's first second; ext4, xfs and tmpfs keep ns.)
  const started = Date.now()
  // loaded only to build: an up-to-date start never needs it (part of `npm start`'s few ms, issue 15)
  const { spawnSync } = createRequire(import.meta.url)('node:child_process')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) return r.status ?? 1
  mkdirSync(join(root, 'dist'), { recursive: true })
  writeFileSync(stamp, listHash)
  utimesSync(stamp, started / 1000, started / 1000)
  process.stderr.write(`build: compiled in ${Date.now() - started} ms\n`)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(buildIfStale(process.argv[2] ?? '.'))
