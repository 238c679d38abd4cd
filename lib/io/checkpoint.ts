/**
 * Checkpoints of long runs: a versioned JSON file, written atomically, that says which run it belongs to (a key
 * over everything that determines the result) and how far the run got, with the run's own state (for corpus
 * scoring, the serialised accumulators). A run resumed from a checkpoint must end with the same numbers as an
 * uninterrupted one, so a checkpoint is refused when its key differs from the run's.
 * @module
 */
import { writeFileAtomicSync } from "./atomic.ts";
import { sha256Text } from "./sha256.ts";
import { anyObject, arr, int, isoTime, nonEmpty, str, strict, tag, v, validateWith } from "./schema.ts";

/** The format tag of checkpoint files. */
export const CHECKPOINT_FORMAT = "checkpoint/1";

/** A checkpoint on disk. */
export interface Checkpoint<S> {
  format: typeof CHECKPOINT_FORMAT;
  /** What kind of run wrote it, e.g. `"score"`. */
  kind: string;
  /** Hash of everything that determines the result (model files, data file, parameters, toolkit version). */
  runKey: string;
  /** The inputs behind the key, for humans and error messages. */
  runDescription: Record<string, unknown>;
  /** Documents (or other units) fully processed and included in `state`. */
  unitsDone: number;
  /** ISO time written. */
  written: string;
  /** The run's state (serialisable JSON). */
  state: S;
}

/**
 * The `checkpoint/1` schema: the envelope; the run's own `state` is checked by the run's reader (e.g.
 * {@link validateCheckpointState} with {@link SCORE_CHECKPOINT_STATE_SCHEMA}).
 */
const CHECKPOINT_SCHEMA: v.GenericSchema<unknown, Checkpoint<unknown>> = strict({
  format: tag(CHECKPOINT_FORMAT),
  kind: nonEmpty(),
  runKey: nonEmpty(),
  runDescription: anyObject(),
  unitsDone: int({ min: 0 }),
  written: isoTime(),
  state: v.unknown(),
});

/**
 * The state of a corpus-scoring checkpoint (and of a finished run's `.state.json`): the serialised accumulators
 * (checked by `CorpusAccumulator.fromJSON`), documents read, lines skipped and their first reasons, and the chained
 * hash of the documents read.
 */
export const SCORE_CHECKPOINT_STATE_SCHEMA = strict({
  accumulator: anyObject(),
  documentsRead: int({ min: 0 }),
  skippedLines: int({ min: 0 }),
  skippedReasons: arr(str()),
  documentsSha256: v.optional(str()),
});

/** Checks a checkpoint's `state` against the run's schema; errors name `path` and `state.<field>`. */
export function validateCheckpointState<const S extends v.GenericSchema>(
  checkpoint: Checkpoint<unknown>,
  schema: S,
  path: string,
): Checkpoint<v.InferOutput<S>> {
  const envelope = strict({
    ...Object.fromEntries(Object.keys(checkpoint).map((k) => [k, v.unknown()])),
    state: schema,
  });
  validateWith(envelope, checkpoint, path);
  return checkpoint as Checkpoint<v.InferOutput<S>>;
}

/** Writes a checkpoint atomically (synchronous, so it is safe from a signal handler). */
export function writeCheckpoint<S>(
  path: string,
  checkpoint: Omit<Checkpoint<S>, "format" | "written">,
): void {
  const full: Checkpoint<S> = { format: CHECKPOINT_FORMAT, written: new Date().toISOString(), ...checkpoint };
  writeFileAtomicSync(path, JSON.stringify(full) + "\n");
}

/**
 * Reads a checkpoint for a run of `kind` with `runKey`. Returns undefined when the file does not exist; throws
 * (naming the file) when it is unreadable, cut short, of another format or kind, or belongs to a different run —
 * then, given the run's `description`, naming what differs.
 */
export function readCheckpoint<S>(
  path: string,
  kind: string,
  runKey: string,
  description?: Record<string, unknown>,
): Checkpoint<S> | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`cannot read the checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
  let cp: Checkpoint<S>;
  try {
    cp = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path}: checkpoint is not valid JSON (${(e as Error).message}; ${text.length} bytes — cut short?); ` +
        "give --fresh to discard it and start again",
    );
  }
  cp = validateWith(CHECKPOINT_SCHEMA, cp, path, { formats: [CHECKPOINT_FORMAT] }) as Checkpoint<S>;
  if (cp.kind !== kind) throw new Error(`${path}: checkpoint of a "${cp.kind}" run, not "${kind}"`);
  if (cp.runKey !== runKey) {
    const what = description !== undefined
      ? `it differs in ${differences(cp.runDescription, description).join("; ") || "the toolkit's run key"}`
      : `its inputs: ${JSON.stringify(cp.runDescription)}`;
    throw new Error(
      `${path}: checkpoint belongs to another run (${what}); give --fresh instead of --resume to discard it ` +
        "and start again",
    );
  }
  return cp;
}

/** A checkpoint or journal of an earlier run where a new run would start afresh: refused unless discarded. */
export class RunStateExistsError extends Error {
  /** The file in the way. */
  readonly path: string;
  constructor(path: string, detail: string) {
    super(
      `${path}: ${detail}; give --resume to continue that run, or --fresh to discard it and start again`,
    );
    this.name = "RunStateExistsError";
    this.path = path;
  }
}

/** How far the checkpoint at `path` got, in words, for refusals ("12 documents, written …"). */
export function describeCheckpointFile(path: string, unit = "documents"): string {
  try {
    const cp = JSON.parse(Deno.readTextFileSync(path)) as Partial<Checkpoint<unknown>>;
    return `a checkpoint of an earlier run (${cp.unitsDone ?? "?"} ${unit} done, written ${
      cp.written ?? "?"
    })`;
  } catch {
    return "an unreadable checkpoint of an earlier run";
  }
}

/** Paths (`settings.max_seq_len: 64 then, 128 now`) where two run descriptions differ; at most `limit`. */
export function differences(then: unknown, now: unknown, limit = 6): string[] {
  const out: string[] = [];
  const short = (v: unknown) => {
    const t = JSON.stringify(v) ?? "absent";
    return t.length > 80 ? t.slice(0, 77) + "…" : t;
  };
  const walk = (a: unknown, b: unknown, at: string) => {
    if (out.length >= limit) return;
    const objA = a !== null && typeof a === "object" && !Array.isArray(a);
    const objB = b !== null && typeof b === "object" && !Array.isArray(b);
    if (objA && objB) {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const k of [...keys].sort()) {
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      }
      return;
    }
    if (JSON.stringify(sortKeys(a)) !== JSON.stringify(sortKeys(b))) {
      out.push(`${at || "(whole)"}: ${short(a)} then, ${short(b)} now`);
    }
  };
  walk(then, now, "");
  return out;
}

/** A stable hex SHA-256 of a JSON-serialisable description (keys sorted), used as a run key. */
export function runKeyOf(description: Record<string, unknown>): Promise<string> {
  // A promise still, as when it used WebCrypto: callers await it.
  return Promise.resolve(sha256Text(JSON.stringify(sortKeys(description))));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>).sort().map((
        k,
      ) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
