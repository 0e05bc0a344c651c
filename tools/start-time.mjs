#!/usr/bin/env node
// Owns measuring start-up: the time from spawning a command to its `tickcast ready` line, over N interleaved runs.
// Must never judge a figure on its own: it prints medians per command and ratios to the first, since the machine may be loaded.
// Usage: node tools/start-time.mjs [--runs N] [--timeout-ms MS] label='cmd args' [label2='cmd args' ...]
//   each command runs from the current directory with `--port 0` appended (any free ports), in its own process group,
//   and is stopped with SIGTERM (then SIGKILL) once it printed the ready line. Runs are interleaved across commands
//   so that a burst of load on a shared machine hits every command alike.
import process from 'node:process'
import { setTimeout, clearTimeout } from 'node:timers'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'

const args = process.argv.slice(2)
let runs = 11, timeoutMs = 30_000
const commands = []
for (let k = 0; k < args.length; k++) {
  if (args[k] === '--runs') runs = Number(args[++k])
  else if (args[k] === '--timeout-ms') timeoutMs = Number(args[++k])
  else {
    const eq = args[k].indexOf('=')
    if (eq <= 0) { process.stderr.write(`start-time: expected label='command', got ${args[k]}\n`); process.exit(2) }
    commands.push({ label: args[k].slice(0, eq), argv: args[k].slice(eq + 1).split(/\s+/).filter(Boolean) })
  }
}
if (commands.length === 0 || !(runs >= 1 && runs <= 1000)) {
  process.stderr.write("usage: node tools/start-time.mjs [--runs N] label='cmd args' ...\n")
  process.exit(2)
}

const TICK_MS = 10 // USER_HZ is 100 on Linux
/**
 * CPU ms used so far by a process group: every live member's own time plus that of the children it already reaped
 * (npm's build step, a shell). Less sensitive to a loaded machine than wall time: waiting for a core costs no CPU.
 */
function groupCpuMs(pgid) {
  let ticks = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    let stat
    try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { continue }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from 3 (state) on
    if (Number(f[2]) !== pgid) continue
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) // utime stime cutime cstime
  }
  return ticks * TICK_MS
}

/** One run: ms from spawn to the ready line, or a rejection with the output seen. */
function once(argv) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(argv[0], [...argv.slice(1), '--port', '0'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', done = false
    const stop = () => { try { process.kill(-child.pid, 'SIGTERM') } catch { /* already gone */ } }
    const kill = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone */ } }, timeoutMs + 5_000)
    const timer = setTimeout(() => { if (!done) { done = true; stop(); reject(new Error(`no ready line in ${timeoutMs} ms:\n${out}`)) } }, timeoutMs)
    const onData = (b) => {
      out += b
      if (!done && /tickcast (ready|started, not ready)/.test(out)) {
        done = true
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        const cpu = groupCpuMs(child.pid)
        clearTimeout(timer)
        // not ready within the banner's wait (a loaded machine): counted and left out of the medians, not a crash
        resolve({ ms, cpu, notReady: !/tickcast ready/.test(out) })
        stop()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (b) => { out += b })
    child.on('exit', (code) => {
      clearTimeout(kill)
      if (!done) { done = true; clearTimeout(timer); reject(new Error(`exited ${code} before ready:\n${out}`)) }
    })
    child.on('close', () => clearTimeout(kill))
  })
}

const waitExit = (ms) => new Promise((r) => setTimeout(r, ms))
const times = commands.map(() => [])
for (let r = 0; r < runs; r++) {
  for (const [k, c] of commands.entries()) {
    times[k].push(await once(c.argv))
    await waitExit(200) // let the stopped process free its ports and CPU before the next spawn
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const notReady = times.map((ts) => ts.filter((t) => t.notReady).length)
for (const [k, ts] of times.entries()) times[k] = ts.filter((t) => !t.notReady)
const base = median(times[0].map((t) => t.ms)), baseCpu = median(times[0].map((t) => t.cpu))
process.stdout.write(`start to "tickcast ready", ${runs} interleaved runs each (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n`)
for (const [k, c] of commands.entries()) {
  if (times[k].length === 0) { process.stdout.write(`  ${c.label.padEnd(20)} never ready within the banner's wait (${notReady[k]} runs)\n`); continue }
  const s = times[k].map((t) => t.ms).sort((a, b) => a - b)
  const med = median(s), cpu = median(times[k].map((t) => t.cpu))
  process.stdout.write(`  ${c.label.padEnd(20)} wall median ${med.toFixed(0).padStart(5)} ms (min ${s[0].toFixed(0)}, max ${s[s.length - 1].toFixed(0)}) ×${(med / base).toFixed(2)}`
    + `   CPU median ${cpu.toFixed(0).padStart(5)} ms ×${(cpu / baseCpu).toFixed(2)}   (ratios to ${commands[0].label})`
    + `${notReady[k] > 0 ? `   ${notReady[k]} run(s) not ready within the banner's wait, left out` : ''}\n`)
}
