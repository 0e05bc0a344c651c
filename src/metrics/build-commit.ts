// Owns finding the git commit tickcast runs from, for tickcast_build_info: $TICKCAST_COMMIT, else the checkout's HEAD.
// Must never spawn git or fail startup: it reads a few files once, and answers 'unknown' when there is no checkout.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The nearest .git (directory, or a worktree's `gitdir:` file) above `from`, as a git dir path. */
function gitDir(from: string): string | null {
  for (let d = from; ; d = dirname(d)) {
    const g = join(d, '.git')
    if (existsSync(g)) {
      if (statSync(g).isDirectory()) return g
      const m = /^gitdir: (.+)$/m.exec(readFileSync(g, 'utf8'))
      return m ? resolve(d, m[1].trim()) : null
    }
    if (dirname(d) === d) return null
  }
}

function readRef(dir: string, ref: string): string | null {
  // a worktree's gitdir names the shared one in `commondir`
  const common = existsSync(join(dir, 'commondir')) ? resolve(dir, readFileSync(join(dir, 'commondir'), 'utf8').trim()) : dir
  for (const base of [dir, common]) {
    const f = join(base, ref)
    if (existsSync(f)) return readFileSync(f, 'utf8').trim()
    const packed = join(base, 'packed-refs')
    if (existsSync(packed)) {
      const line = readFileSync(packed, 'utf8').split('\n').find((l) => l.endsWith(' ' + ref))
      if (line) return line.split(' ')[0]
    }
  }
  return null
}

/** 12 hex digits of the running commit, or 'unknown'. */
export function buildCommit(env: NodeJS.ProcessEnv = process.env, from = dirname(fileURLToPath(import.meta.url))): string {
  if (env.TICKCAST_COMMIT) return env.TICKCAST_COMMIT.slice(0, 12)
  try {
    const dir = gitDir(from)
    if (!dir) return 'unknown'
    const head = readFileSync(join(dir, 'HEAD'), 'utf8').trim()
    const sha = head.startsWith('ref: ') ? readRef(dir, head.slice(5)) : head
    return sha && /^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : 'unknown'
  } catch {
    return 'unknown'
  }
}
