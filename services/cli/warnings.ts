/**
 * Node process warnings the product knows to be harmless, kept off the terminal.
 *
 * kafkajs 2.2.4's request queue schedules its next check with
 * `setTimeout(fn, this.throttledUntil - Date.now())`, and `throttledUntil` starts at -1
 * (network/requestQueue/index.js): a negative delay, which Node runs after 1 ms as it always
 * did but now reports as a TimeoutNegativeWarning on stderr, at random moments of any command
 * that talks to Kafka (`pdm replay` printed it in CI). The product itself never sets a
 * negative timeout, so that warning is dropped; every other warning reaches Node's own
 * printer unchanged.
 */
const DROPPED = new Set(['TimeoutNegativeWarning']);

let installed = false;

export function dropKnownWarnings(proc: NodeJS.Process = process): void {
  if (installed) return;
  installed = true;
  const printers = proc.listeners('warning');
  proc.removeAllListeners('warning');
  proc.on('warning', (warning: Error) => {
    if (DROPPED.has(warning.name)) return;
    for (const print of printers) print.call(proc, warning);
  });
}
