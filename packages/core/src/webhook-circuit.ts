/**
 * When a failing endpoint stops being sent to, and for how long. Counted over attempts
 * (whichever delivery made them), so a dead or hanging endpoint costs one probe per
 * cool-down instead of every delivery's every attempt running into the timeout.
 */
export interface CircuitSettings {
  /** Attempts in a row that failed before the circuit opens. */
  openAfter: number
  /** How long it stays open the first time; each failed probe doubles it, up to 30 times this. */
  cooldownMs: number
}

export const CIRCUIT_DEFAULTS: CircuitSettings = { openAfter: 3, cooldownMs: 30_000 }

/** The cool-down after `failedInRow` failed attempts, or null while the circuit stays closed. */
export function circuitCooldownMs(settings: CircuitSettings, failedInRow: number): number | null {
  if (failedInRow < settings.openAfter) return null
  return Math.min(
    settings.cooldownMs * 2 ** (failedInRow - settings.openAfter),
    settings.cooldownMs * 30,
  )
}

/** What the attempt log says about an attempt the open circuit held back. */
export function circuitOpenMessage(failedInRow: number, openUntil: Date) {
  return `not sent: the endpoint's last ${failedInRow} attempts failed, so sending is paused until ${openUntil.toISOString()}`
}
