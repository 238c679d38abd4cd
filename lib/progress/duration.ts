/**
 * Durations for people, the one format every progress line and ETA uses: `4.5 s`, `12 s`, `1 min 35 s`.
 * @module
 */

/** `seconds` as text: one decimal under 10 s, whole seconds under a minute, then minutes and seconds; `?` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "?";
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  // Rounded once, before splitting, so 119.6 s reads "2 min 0 s", not "1 min 60 s".
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  return `${minutes} min ${whole - 60 * minutes} s`;
}
