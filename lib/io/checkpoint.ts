/**
 * Checkpoints of long runs: a versioned JSON file, written atomically, that says which run it belongs to (a key
 * over everything that determines the result) and how far the run got, with the run's own state (for corpus
 * scoring, the serialised accumulators). A run resumed from a checkpoint must end with the same numbers as an
 * uninterrupted one, so a checkpoint is refused when its key differs from the run's.
 * @module
 */
import { writeFileAtomicSync } from "./atomic.ts";
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
export const CHECKPOINT_SCHEMA: v.GenericSchema<unknown, Checkpoint<unknown>> = strict({
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
 * when it is unreadable, of another format or kind, or belongs to a different run (naming what differs).
 */
export function readCheckpoint<S>(path: string, kind: string, runKey: string): Checkpoint<S> | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  let cp: Checkpoint<S>;
  try {
    cp = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: checkpoint is not valid JSON (${(e as Error).message})`);
  }
  cp = validateWith(CHECKPOINT_SCHEMA, cp, path, { formats: [CHECKPOINT_FORMAT] }) as Checkpoint<S>;
  if (cp.kind !== kind) throw new Error(`${path}: checkpoint of a "${cp.kind}" run, not "${kind}"`);
  if (cp.runKey !== runKey) {
    throw new Error(
      `${path}: checkpoint belongs to another run (its inputs: ${JSON.stringify(cp.runDescription)}); ` +
        `remove it or drop --resume to start afresh`,
    );
  }
  return cp;
}

/** A stable hex SHA-256 of a JSON-serialisable description (keys sorted), used as a run key. */
export async function runKeyOf(description: Record<string, unknown>): Promise<string> {
  const canonical = JSON.stringify(sortKeys(description));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
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
