// Owns how this process shows itself to an MQTT broker: a client id unique per process, and the stop budget.
// Must never reuse a client id across processes: a broker disconnects the older session on a duplicate (takeover).
import { randomBytes } from 'node:crypto'

/** `<nodeId>-<pid>-<6 hex>`: two instances on one host (same nodeId) coexist; MQTT 3.1.1 brokers accept 23+ chars. */
export function mqttClientId(nodeId: string): string {
  return `${nodeId}-${process.pid}-${randomBytes(3).toString('hex')}`
}

/**
 * Shares the shutdown deadline between the stages that wait on the network: clients (close grace), the publisher's
 * `offline` + DISCONNECT, the embedded broker. A hung broker must cost a bounded slice, so the exit stays 0.
 */
export function shutdownBudget(deadlineMs: number): { mqttStopMs: number; brokerCloseMs: number } {
  return { mqttStopMs: Math.max(50, Math.floor(deadlineMs * 0.4)), brokerCloseMs: Math.max(50, Math.floor(deadlineMs * 0.2)) }
}
