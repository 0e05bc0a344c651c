// Owns the client side of tickcast authentication: sending op:auth with a token from getToken(), and which close codes
// end the session for good. Must never store a token beyond the call that sends it, nor put one in a URL.

/** 4401 bad or missing credential, 4403 revoked or over the connection cap: reconnecting would fail the same way. */
export const FINAL_CLOSE_CODES: readonly number[] = [4401, 4403]

export type GetToken = () => string | Promise<string>

interface Sender { send(data: string): void }

/** Asks getToken() for a fresh token and sends it as op:auth on `ws` (first message, or an in-band refresh). */
export function sendAuth(ws: Sender, getToken: GetToken, stillCurrent: () => boolean, onError: (message: string) => void): void {
  Promise.resolve().then(getToken).then(
    (token) => { if (stillCurrent()) ws.send(JSON.stringify({ op: 'auth', token, id: 'auth' })) },
    (e: unknown) => onError('getToken failed: ' + String(e)),
  )
}
