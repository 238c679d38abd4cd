/**
 * The benchmarks' command lines: node:util's `parseArgs` (strict) over `Deno.args`, plus `--help` / `-h`, which
 * prints the script's usage and exits 0; an unknown or malformed option prints one line and the usage and exits
 * 2 instead of a stack trace.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Option declarations as `parseArgs` takes them. */
export type BenchOptions = NonNullable<ParseArgsConfig["options"]>;

/** The parsed option values of `options` (see the module comment for `--help` and errors). */
export function benchArgs<const O extends BenchOptions>(
  usage: string,
  options: O,
  args: string[] = Deno.args,
) {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    Deno.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    Deno.exit(2);
  }
}

/**
 * The integer value of a counting option (`--runs 3`), at least `min`; anything else prints one line and the
 * usage and exits 2 (a benchmark that would run zero times, or NaN times, must not write a result).
 */
export function benchCount(usage: string, option: string, value: string, min = 1): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    console.error(`--${option} must be an integer ≥ ${min}, got ${JSON.stringify(value)}\n${usage}`);
    Deno.exit(2);
  }
  return n;
}

/** {@link benchCount} over a comma-separated list (`--memory-docs 10,100,1000`); empty items are skipped. */
export function benchCounts(usage: string, option: string, value: string, min = 1): number[] {
  return value.split(",").filter((s) => s !== "").map((s) => benchCount(usage, option, s, min));
}

/** The value of an option with a fixed set of values (`--gzip auto|libz|pako`); anything else exits 2. */
export function benchChoice<const C extends string>(
  usage: string,
  option: string,
  value: string,
  choices: readonly C[],
): C {
  if (!(choices as readonly string[]).includes(value)) {
    console.error(`--${option} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}\n${usage}`);
    Deno.exit(2);
  }
  return value as C;
}
