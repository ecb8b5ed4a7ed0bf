/** The first multiple of `intervalMs` since the Unix epoch strictly after `nowMs`. */
export function nextTickMs(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}
