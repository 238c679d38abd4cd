/**
 * Numbers for people: the one module that tables, figure titles, the report, the verdict and command summaries
 * format numbers with. Everywhere: NaN, null and undefined show as a "missing" text, infinities as ∞ / −∞.
 *
 * - {@link formatNumber}: tables and headline statistics (4 significant digits, thousands separators).
 * - {@link formatSignificant}: values in a sentence, trailing zeros kept so they line up (`3.000 → 1.000`).
 * - {@link formatFixed}: a fixed number of decimals (ECE, mean ± 2·SE, mean probabilities).
 * - {@link formatPercent}: a share as a whole percentage (`62%`).
 * - {@link formatScientific}: differences and tolerances (`1.23e-7`).
 * @module
 */

/** Options of {@link formatNumber}. */
export interface NumberFormat {
  /** Significant digits for non-integers (default 4). */
  significantDigits?: number;
  /** Text for NaN/null/undefined (default "–"). */
  missing?: string;
}

/** The text of a value that is not a finite number: `missing` for NaN/null/undefined, ∞ / −∞; else undefined. */
function notFinite(x: number | null | undefined, missing: string): string | undefined {
  if (x === null || x === undefined || Number.isNaN(x)) return missing;
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  return undefined;
}

/**
 * Formats a value for a table: integers with thousands separators (1,234), other finite numbers with
 * `significantDigits` significant digits, trailing zeros dropped (scientific below 1e-4 or from 1e6), NaN/null
 * as `missing`, others with String().
 */
export function formatNumber(value: unknown, format: NumberFormat = {}): string {
  const digits = format.significantDigits ?? 4;
  const missing = format.missing ?? "–";
  if (value === null || value === undefined) return missing;
  if (typeof value === "bigint") return value.toLocaleString("en-US");
  if (typeof value !== "number") return String(value);
  const special = notFinite(value, missing);
  if (special !== undefined) return special;
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString("en-US");
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

/** `x` with `digits` significant digits, trailing zeros kept (`3.000`); `missing` (default "n/a") for NaN/null. */
export function formatSignificant(x: number | null | undefined, digits: number, missing = "n/a"): string {
  return notFinite(x, missing) ?? x!.toPrecision(digits);
}

/** `x` with `digits` decimals (`0.1000`); `missing` (default "–") for NaN/null. */
export function formatFixed(x: number | null | undefined, digits: number, missing = "–"): string {
  return notFinite(x, missing) ?? x!.toFixed(digits);
}

/** A share in [0, 1] as a whole percentage (`0.625` → `63%`); `missing` (default "–") for NaN/null. */
export function formatPercent(share: number | null | undefined, missing = "–"): string {
  return notFinite(share, missing) ?? `${(100 * share!).toFixed(0)}%`;
}

/** `x` in scientific notation with `digits` decimals (`1.23e-7`); `missing` (default "NaN") for NaN/null. */
export function formatScientific(x: number | null | undefined, digits: number, missing = "NaN"): string {
  return notFinite(x, missing) ?? x!.toExponential(digits);
}
