// Owns the security headers every HTTP response carries: nosniff, no framing, no referrer, a Content-Security-Policy.
// Must never be skipped by a response path (routes, page, auth refusals, upgrade refusals) nor allow more than a page needs.
import { createHash } from 'node:crypto'
import type * as uWS from 'uWebSockets.js'

/**
 * For everything that is not the live page (JSON, JavaScript modules, metrics, errors): nothing may load, run, be
 * framed or submitted. A browser that is tricked into rendering a JSON body as a document gets an inert page.
 */
export const CSP_NONE = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/**
 * For the live page's dedicated workers (`/client/**-worker.js`): a worker runs under the policy of its own script's
 * response, so CSP_NONE would forbid its module imports and its WebSocket. It may load same-origin scripts and connect
 * to its own origin (ws: included), nothing else.
 */
export const CSP_WORKER = "default-src 'none'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const INLINE_STYLE = /<style(?:\s[^>]*)?>([\s\S]*?)<\/style>/gi
/** an inline script is one without a src attribute: those are the only scripts a hash has to allow */
const INLINE_SCRIPT = /<script((?:\s[^>]*)?)>([\s\S]*?)<\/script>/gi

function sha256(text: string): string { return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'` }

/**
 * The live page's policy, computed once from its markup: its own scripts and styles ('self'), each inline <style> or
 * <script> by hash (never 'unsafe-inline'), WebSocket and fetch to its own origin only, nothing else.
 */
export function documentCsp(html: string): string {
  const styles = [...html.matchAll(INLINE_STYLE)].map((m) => sha256(m[1]))
  const scripts = [...html.matchAll(INLINE_SCRIPT)].filter((m) => !/\ssrc\s*=/i.test(m[1])).map((m) => sha256(m[2]))
  return [
    "default-src 'none'", ['script-src', "'self'", ...scripts].join(' '), ['style-src', "'self'", ...styles].join(' '),
    "connect-src 'self'", "img-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Writes the four headers; call it right after writeStatus (uWS sends the status line on the first header, so a
 * status written later would be ignored) or first thing for a 200. Returns `res` for chaining.
 */
export function secureHeaders(res: uWS.HttpResponse, csp: string = CSP_NONE): uWS.HttpResponse {
  return res.writeHeader('X-Content-Type-Options', 'nosniff').writeHeader('X-Frame-Options', 'DENY')
    .writeHeader('Referrer-Policy', 'no-referrer').writeHeader('Content-Security-Policy', csp)
}
