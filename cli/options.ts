/**
 * The command line of every command: `node:util`'s `parseArgs`, strict, plus what it does not check — an option
 * that takes one value given twice (`--completions a.npy --completions b.npy` would silently keep only b) is an
 * error, as is an unknown option or a missing value; all of them are {@link UsageError}s (exit status 2, with the
 * command's help hint). Also the shell-quoted command line that finishes an interrupted job.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A wrong command line: the entry point prints it with a pointer to `--help` and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * `parseArgs(config)` with `strict: true` and `tokens: true`; throws a {@link UsageError} for an unknown option, a
 * missing value, an unexpected positional, or an option without `multiple: true` given more than once with a value
 * (a boolean flag repeated is harmless and accepted).
 */
export function parseCommandLine<const T extends ParseArgsConfig>(config: T): Parsed<T> {
  let parsed: Parsed<T>;
  let tokens: { kind: string; name?: string; value?: string }[];
  try {
    const withTokens = parseArgs({ ...config, strict: true, tokens: true });
    tokens = (withTokens.tokens ?? []) as typeof tokens;
    parsed = withTokens as unknown as Parsed<T>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const options = config.options ?? {};
  const seen = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind !== "option" || token.name === undefined) continue;
    const spec = options[token.name];
    if (spec === undefined || spec.multiple || spec.type !== "string") continue;
    const value = token.value ?? "";
    const earlier = seen.get(token.name);
    if (earlier !== undefined) {
      throw new UsageError(
        `--${token.name} given twice (${JSON.stringify(earlier)}, then ${JSON.stringify(value)}); ` +
          "it takes one value",
      );
    }
    seen.set(token.name, value);
  }
  return parsed;
}

/** `value` quoted for a POSIX shell where it needs to be. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command that continues a stopped job: `deno task <task> <args…>` with `--fresh` dropped and `--resume`
 * added (once), every argument shell-quoted.
 */
export function resumeCommand(task: string, args: readonly string[]): string {
  const kept = args.filter((a) => a !== "--fresh");
  if (!kept.includes("--resume")) kept.push("--resume");
  return `deno task ${task} ${kept.map(shellQuote).join(" ")}`;
}
