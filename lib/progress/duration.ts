/**
 * Durations for people, the one format every progress line and ETA uses: `4.5 s`, `12 s`, `1 min 35 s`.
 * @module
 */

/** `seconds` as text: one decimal under 10 s, whole seconds under a minute, then minutes and seconds; `?` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
}
