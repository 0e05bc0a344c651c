#!/usr/bin/env node
// Owns `npm start`: builds when a source changed (build-if-stale), then runs the server in this same process.
// Must never start a stale build, nor a second node: one process boot less is part of the fast start (issue 15).
// The arguments after `npm start --` reach the server's main unchanged (process.argv is this process's).
// The server runs from its bundle (start-bundle.mjs: a few files instead of ~400 modules to resolve and link),
// remade when the build is; without rolldown (a production install) or if bundling fails, from dist/src/main.js.
import process from 'node:process'
import { URL, fileURLToPath, pathToFileURL } from 'node:url'
import { buildIfStale } from './build-if-stale.mjs'
import { startBundle } from './start-bundle.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const status = buildIfStale(root)
if (status !== 0) process.exit(status)
const bundled = await startBundle(root)
await import(bundled !== null ? pathToFileURL(bundled).href : '../dist/src/main.js')
