// Owns the simulator's GLIMPSE-style snapshot endpoint: the generator's published market as native messages, then End of
// Snapshot with the live sequence that follows. Must never pace or generate: it reads the state the stream already sent.
import { GlimpseServer } from '../glimpse/glimpse-server.js'
import type { SoupServer } from '../soup-server.js'
import type { FeedGenerator } from './generator.js'

/**
 * A snapshot server beside the simulator's live session. The generator appends every message it makes to the live
 * server in the same turn, so at any instant its published state reflects exactly the live sequences below
 * `live.nextSeq`: a client that applies the snapshot and logs in to the live session at that number misses nothing
 * and sees nothing twice (the GLIMPSE 5.0 contract of src/feed/glimpse.ts, carrying native messages, not ITCH).
 */
export function simulatorSnapshotServer(gen: FeedGenerator, live: SoupServer, host: string, port: number, sessionId: string): GlimpseServer {
  return new GlimpseServer(() => ({ messages: gen.snapshotMessages(), nextSeq: live.nextSeq }), { host, port, sessionId })
}
