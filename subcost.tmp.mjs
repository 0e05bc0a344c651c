// CPU-seconds of the server process (utime+stime from /proc) for 100 `*` clients subscribing, measured to 1 s after the last ack
import WebSocket from 'ws'
import { readFileSync } from 'node:fs'
const [url, pid, hz] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100 }
const idle0 = cpu(); await new Promise((r) => setTimeout(r, 2000)); const idleRate = (cpu() - idle0) / 2
const c0 = cpu(), t0 = performance.now(); let acked = 0, snaps = 0
await new Promise((done) => {
  for (let i = 0; i < 100; i++) { const w = new WebSocket(url); w.on('open', () => w.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], ...(hz ? { maxHz: hz } : {}) })))
    w.on('message', (d) => { const v = JSON.parse(d.toString()); if (Array.isArray(v)) { for (const e of v) if (e.e === 'snap' && ++snaps === 50000) done() } else if (v.type === 'subscribed') acked++ }) }
})
const sec = (performance.now() - t0) / 1000, used = cpu() - c0
console.log(JSON.stringify({ hz, acked, snaps, wallSec: +sec.toFixed(2), cpuSec: +used.toFixed(2), idleCpuPerSec: +idleRate.toFixed(3), subscribeCpuSec: +(used - idleRate * sec).toFixed(2) }))
process.exit(0)
