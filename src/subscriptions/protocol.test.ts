import { describe, expect, it } from 'vitest'
import { ControlRequest, OP_PING, OP_SUBSCRIBE, OP_UNSUBSCRIBE, ackReply, errorReply, parseControl } from './protocol.js'

const req = new ControlRequest()
function parse(text: string, isBinary = false, max = 10): boolean {
  const u8 = Buffer.from(text, 'utf8')
  return parseControl(u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.length), isBinary, max, req)
}

describe('control message parsing', () => {
  it('accepts subscribe, unsubscribe and ping with ids and the snapshot flag', () => {
    expect(parse('{"op":"subscribe","symbols":["AAPL","MS*","*"],"snapshot":false,"id":"r1"}')).toBe(true)
    expect(req).toMatchObject({ op: OP_SUBSCRIBE, id: 'r1', symbols: ['AAPL', 'MS*', '*'], snapshot: false, errorCode: '' })
    expect(parse('{"op":"unsubscribe","symbols":["AAPL"],"id":7}')).toBe(true)
    expect(req).toMatchObject({ op: OP_UNSUBSCRIBE, id: 7, snapshot: true })
    expect(parse('{"op":"ping"}')).toBe(true)
    expect(req).toMatchObject({ op: OP_PING, id: undefined })
  })

  it('reads since (resume): per symbol the last n held, integers ≥ 0 only', () => {
    expect(parse('{"op":"subscribe","symbols":["AAPL","MSFT"],"since":{"AAPL":1234,"MSFT":0}}')).toBe(true)
    expect([...req.since!]).toEqual([['AAPL', 1234], ['MSFT', 0]])
    expect(parse('{"op":"subscribe","symbols":["AAPL"]}')).toBe(true)
    expect(req.since).toBe(null)
    for (const bad of ['[1]', '{"AAPL":-1}', '{"AAPL":1.5}', '{"AAPL":"7"}', '3']) {
      expect(parse(`{"op":"subscribe","symbols":["AAPL"],"since":${bad}}`), bad).toBe(false)
      expect(req.errorCode, bad).toBe('MALFORMED')
    }
    expect(parse(JSON.stringify({ op: 'subscribe', symbols: ['A'], since: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`S${i}`, 1])) }))).toBe(false)
    expect(req.errorCode).toBe('TOO_LARGE')
  })

  it('names what is wrong with a bad request, keeping the id when it could be read', () => {
    const cases: Array<[string, string]> = [
      ['hello', 'MALFORMED'], ['{"op":', 'MALFORMED'], ['[1,2]', 'MALFORMED'], ['null', 'MALFORMED'], ['42', 'MALFORMED'],
      ['{"symbols":["A"]}', 'MALFORMED'], ['{"op":"dance","id":"x"}', 'UNKNOWN_OP'],
      ['{"op":"subscribe"}', 'MALFORMED'], ['{"op":"subscribe","symbols":[]}', 'MALFORMED'],
      ['{"op":"subscribe","symbols":"AAPL"}', 'MALFORMED'], ['{"op":"subscribe","symbols":["A",1]}', 'MALFORMED'],
      ['{"op":"subscribe","symbols":["A"],"snapshot":"yes"}', 'MALFORMED'],
      ['{"op":"ping","id":{"a":1}}', 'MALFORMED'], [`{"op":"ping","id":"${'x'.repeat(65)}"}`, 'MALFORMED'],
      [JSON.stringify({ op: 'subscribe', symbols: Array.from({ length: 11 }, (_, i) => `S${i}`) }), 'TOO_LARGE'],
    ]
    for (const [text, code] of cases) {
      expect(parse(text), text).toBe(false)
      expect(req.errorCode, text).toBe(code)
      expect(req.errorMessage.length).toBeGreaterThan(0)
    }
    parse('{"op":"dance","id":"x"}')
    expect(req.id).toBe('x')
  })

  it('rejects binary frames', () => {
    expect(parse('{"op":"ping"}', true)).toBe(false)
    expect(req.errorCode).toBe('MALFORMED')
  })

  it('writes replies as JSON with stable field names', () => {
    expect(JSON.parse(ackReply('subscribed', 'r1', ['AAPL'], ['MS*']))).toEqual({ type: 'subscribed', id: 'r1', symbols: ['AAPL'], patterns: ['MS*'] })
    expect(JSON.parse(errorReply('UNKNOWN_SYMBOL', 'no such symbol', 'r1', 'ZZZZ')))
      .toEqual({ type: 'error', code: 'UNKNOWN_SYMBOL', symbol: 'ZZZZ', id: 'r1', message: 'no such symbol' })
  })
  it('refuses absurd throttles and echoes only a short prefix of a bad entry', () => {
    for (const bad of ['{"op":"subscribe","symbols":["*"],"maxHz":1e-300}', '{"op":"subscribe","symbols":["*"],"maxAgeMs":1e300}',
      '{"op":"subscribe","symbols":["*"],"maxHz":0.0009}', '{"op":"subscribe","symbols":["*"],"maxAgeMs":3600001}']) {
      expect(parse(bad), bad).toBe(false)
      expect(req.errorCode).toBe('MALFORMED')
    }
    expect(parse('{"op":"subscribe","symbols":["*"],"maxHz":0.001,"maxAgeMs":3600000}')).toBe(true)
    const long = 'A'.repeat(4000)
    const reply = errorReply('BAD_SYMBOL', 'bad', 'r1', long)
    expect(reply.length).toBeLessThan(200)
    expect(JSON.parse(reply).symbol).toBe(`${'A'.repeat(32)}…(4000 chars)`)
  })
})
