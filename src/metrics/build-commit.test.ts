// The commit label of tickcast_build_info: from the environment, from this real checkout, or 'unknown'.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildCommit } from './build-commit.js'

describe('buildCommit', () => {
  it('prefers $TICKCAST_COMMIT', () => {
    expect(buildCommit({ TICKCAST_COMMIT: '0123456789abcdef0123' })).toBe('0123456789ab')
  })
  it('reads HEAD of the checkout it runs from (worktrees included), as git itself reports it', () => {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: import.meta.dirname, encoding: 'utf8' }).trim()
    expect(buildCommit({}, import.meta.dirname)).toBe(sha.slice(0, 12))
  })
  it("answers 'unknown' outside a checkout", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-nogit-'))
    try { expect(buildCommit({}, dir)).toBe('unknown') } finally { rmSync(dir, { recursive: true, force: true }) }
  })
})
