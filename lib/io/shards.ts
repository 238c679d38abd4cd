/**
 * Shards of a step: `--shard I/N` (1 ≤ I ≤ N) takes every N-th unit of the step's work — the unit at position
 * k (0-based, in the step's own order) belongs to shard `k mod N + 1`. Positions are documents in ascending
 * index order (score) or cells `t·P + p` (generate, diversity). Interleaving rather than contiguous ranges
 * spreads long and short documents, low and high temperatures alike over the shards, so shards take about
 * the same time without knowing the costs up front; and a shard's units are known from (I, N) and the
 * step's size alone.
 *
 * This module parses shard specs, says which positions a shard holds, and checks that a set of shard files
 * forms one complete partition (same N, every index once); each error names the file.
 * @module
 */
import { differences } from "./checkpoint.ts";

/** Shard `index` of `count` (1-based index). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** `"I/N"` → a spec; anything else is an error naming the option. */
export function parseShard(text: string, what = "--shard"): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new RangeError(`${what} must be I/N with 1 ≤ I ≤ N (e.g. 2/3), got "${text}"`);
  }
  return { index, count };
}

/** `"I/N"`. */
export function shardLabel(s: ShardSpec): string {
  return `${s.index}/${s.count}`;
}

/** Whether position `k` (0-based) belongs to shard `s`. */
export function inShard(k: number, s: ShardSpec): boolean {
  return k % s.count === s.index - 1;
}

/** The positions of `total` that shard `s` holds, ascending. */
export function shardPositions(total: number, s: ShardSpec): number[] {
  const out: number[] = [];
  for (let k = s.index - 1; k < total; k += s.count) out.push(k);
  return out;
}

/** A shard file read: where it is and which shard it says it is. */
export interface ShardFile {
  path: string;
  shard: ShardSpec;
}

/**
 * Throws unless `files` are exactly shards 1…N of one N, each once: a differing N, a shard given twice
 * (overlap) and a missing shard are errors naming the files.
 */
export function checkCompleteShards(files: readonly ShardFile[]): void {
  if (files.length === 0) throw new Error("no shard to merge");
  const first = files[0];
  const byIndex = new Map<number, string>();
  for (const f of files) {
    if (f.shard.count !== first.shard.count) {
      throw new Error(
        `${f.path}: shard ${shardLabel(f.shard)} is of a split into ${f.shard.count}, but ${first.path} is ` +
          `shard ${shardLabel(first.shard)}; only shards of one split merge`,
      );
    }
    const other = byIndex.get(f.shard.index);
    if (other !== undefined) {
      throw new Error(
        `${f.path}: shard ${shardLabel(f.shard)} overlaps ${other}, which is shard ${
          shardLabel(f.shard)
        } too; give each shard once`,
      );
    }
    byIndex.set(f.shard.index, f.path);
  }
  const missing: string[] = [];
  for (let i = 1; i <= first.shard.count; i++) if (!byIndex.has(i)) missing.push(`${i}/${first.shard.count}`);
  if (missing.length > 0) {
    const given = files.map((f) => `${f.path} (${shardLabel(f.shard)})`).join(", ");
    throw new Error(`shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} missing: given ${given}`);
  }
}

/**
 * Throws, naming `path` and `firstPath`, when `what` of a shard differs from the first shard's (compared as
 * JSON): shards of another model, data or settings do not belong together.
 */
export function checkSameAs(
  path: string,
  firstPath: string,
  what: string,
  value: unknown,
  firstValue: unknown,
): void {
  if (JSON.stringify(value) === JSON.stringify(firstValue)) return;
  const diff = differences(firstValue, value, 3);
  throw new Error(
    `${path}: ${what} differs from ${firstPath}'s${
      diff.length > 0 ? ` (${diff.join("; ")})` : ""
    }; only shards of one job merge`,
  );
}
