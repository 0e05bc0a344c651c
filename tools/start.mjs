#!/usr/bin/env node
// Owns `npm start`: builds when a source changed (build-if-stale), then runs the server in this same process.
// Must never start a stale build, nor a second node: one process boot less is part of the fast start (issue 15).
// The arguments after `npm start --` reach dist/src/main.js unchanged (process.argv is this process's).
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'
import { buildIfStale } from './build-if-stale.mjs'

const status = buildIfStale(fileURLToPath(new URL('..', import.meta.url)))
if (status !== 0) process.exit(status)
await import('../dist/src/main.js')
