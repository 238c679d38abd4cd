/**
 * The paper's two small table formats (lauraaisling/analyse-llms `results/`): the perplexity JSON files
 * (`results/perplexity/*-perplexity.json`) and the hand-merged `probs_conf` text files
 * (`results/probs_conf/probs_<size>.txt`). Layouts: docs/FORMATS.md, the paper's table files.
 *
 * Quirks kept visible rather than hidden:
 * - the perplexity files' `"entropy"` key is the mean negative log-likelihood (= ln perplexity), not predictive
 *   entropy (docs/PAPER_QUIRKS.md, "entropy" in the perplexity files); it is returned as
 *   {@link PerplexityRow.meanNll};
 * - the probs_conf "Entropy" is of the FIRST corpus document only (docs/PAPER_QUIRKS.md, first-document
 *   entropy);
 * - the probs_conf files were appended to and hand-edited: lines may start with spaces, blank lines vary, a
 *   label may have an "Entropy" line but no block (or a block without confidence), and one file carries an
 *   extra epoch-2 run ("SFT2"). Every recognised line is parsed; any other non-blank line is an error naming
 *   the file and line.
 * @module
 */
import { basename, join } from "node:path";

/** A malformed table file, with the file (and line, where known). */
export class PaperTableError extends Error {
  /** The file concerned. */
  readonly path: string;
  constructor(path: string, what: string) {
    super(`${path}: ${what}`);
    this.name = "PaperTableError";
    this.path = path;
  }
}

/** Vocabulary sizes of the paper's tokenizers: Pythia 2.8B-class (50304), Pythia 6.9B (50432), Llama-2 (32000). */
export const PAPER_VOCAB_SIZES: readonly number[] = [50304, 50432, 32000];

/** One label's numbers in a probs_conf file (null where the file has no such line). */
export interface ProbsConfEntry {
  /** The label as written ("PLM", "SFT", "DPO", "PPO", "chat", "SFT2", "pythia-6.9b", …). */
  label: string;
  /** "Entropy" line: mean entropy of the FIRST document only (a bug of the original). */
  entropy: number | null;
  /** "average confidence" line (only the newer script wrote it). */
  averageConfidence: number | null;
  /** Proportion of the vocabulary holding 70% of the mean next-token mass (0-based index / V). */
  prop70: number | null;
  /** The same at 90%. */
  prop90: number | null;
}

/** A parsed probs_conf file. */
export interface ProbsConfFile {
  path: string;
  /** Labels in first-seen order. */
  entries: ProbsConfEntry[];
  /** Repeated lines for a label and field whose value differs from the first one (the first is kept). */
  conflicts: string[];
}

const NUMBER = String.raw`([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN)`;
const ENTROPY_RE = new RegExp(String.raw`^Entropy (.+?):\s+${NUMBER}$`);
const CONFIDENCE_RE = new RegExp(String.raw`^Model (.+?) average confidence:\s+${NUMBER}$`);
const PROPORTION_RE = new RegExp(
  String
    .raw`^Proportion of total tokenizer where sum of average token probabilities at (\d+)th percentile for (.+?):\s+${NUMBER}$`,
);

/** Parses the text of one probs_conf file (see the module doc for the quirks it accepts). */
export function parseProbsConf(text: string, path = "<probs_conf>"): ProbsConfFile {
  const entries = new Map<string, ProbsConfEntry>();
  const conflicts: string[] = [];
  const entry = (label: string) => {
    let e = entries.get(label);
    if (e === undefined) {
      e = { label, entropy: null, averageConfidence: null, prop70: null, prop90: null };
      entries.set(label, e);
    }
    return e;
  };
  const set = (
    label: string,
    field: "entropy" | "averageConfidence" | "prop70" | "prop90",
    value: number,
    line: number,
  ) => {
    const e = entry(label);
    const old = e[field];
    if (old !== null && !(old === value || (Number.isNaN(old) && Number.isNaN(value)))) {
      conflicts.push(`line ${line}: ${label} ${field} ${value} differs from the earlier ${old} (kept)`);
      return;
    }
    e[field] = value;
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const no = i + 1;
    if (line === "") return;
    let m: RegExpExecArray | null;
    if ((m = ENTROPY_RE.exec(line))) return set(m[1], "entropy", Number(m[2]), no);
    if ((m = CONFIDENCE_RE.exec(line))) return set(m[1], "averageConfidence", Number(m[2]), no);
    if ((m = PROPORTION_RE.exec(line))) {
      if (m[1] !== "70" && m[1] !== "90") {
        throw new PaperTableError(path, `line ${no}: unexpected percentile ${m[1]} (expected 70 or 90)`);
      }
      return set(m[2], m[1] === "70" ? "prop70" : "prop90", Number(m[3]), no);
    }
    throw new PaperTableError(
      path,
      `line ${no}: not a probs_conf line: ${JSON.stringify(line.slice(0, 80))}`,
    );
  });
  if (entries.size === 0) throw new PaperTableError(path, "no entries");
  return { path, entries: [...entries.values()], conflicts };
}

/**
 * The vocabulary index behind a proportion: the original stored index / V, so prop × V is an integer for the
 * model's V. Returns the first V of `vocabSizes` that makes it one (within 1e-6), or null.
 */
export function vocabIndexOf(
  prop: number | null,
  vocabSizes: readonly number[] = PAPER_VOCAB_SIZES,
): { index: number; vocab: number } | null {
  if (prop === null || !Number.isFinite(prop)) return null;
  for (const vocab of vocabSizes) {
    const x = prop * vocab;
    if (Math.abs(x - Math.round(x)) < 1e-6) return { index: Math.round(x), vocab };
  }
  return null;
}

/** One row of the probs_conf table. */
export interface ProbsConfRow extends ProbsConfEntry {
  /** File name. */
  file: string;
  /** Model size or group from the file name (`probs_<size>.txt`). */
  size: string;
  /** 0-based index behind prop70 / prop90 and the vocabulary size that makes them integers (null if none). */
  index70: number | null;
  index90: number | null;
  vocab: number | null;
}

/** `probs_<size>.txt` → `<size>`. */
function probsConfSize(path: string): string {
  const m = /^probs_(.+)\.txt$/.exec(basename(path));
  if (!m) throw new PaperTableError(path, "not a probs_conf file name (probs_<size>.txt)");
  return m[1];
}

/** Rows of a parsed file, with the implied vocabulary indexes. */
export function probsConfRows(file: ProbsConfFile): ProbsConfRow[] {
  const size = probsConfSize(file.path);
  return file.entries.map((e) => {
    const i70 = vocabIndexOf(e.prop70);
    const i90 = vocabIndexOf(e.prop90);
    return {
      file: basename(file.path),
      size,
      ...e,
      index70: i70?.index ?? null,
      index90: i90?.index ?? null,
      vocab: i70?.vocab ?? i90?.vocab ?? null,
    };
  });
}

/** Reads every `probs_*.txt` of a folder (sorted by file name) into rows. */
export async function readProbsConfDir(dir: string): Promise<{ rows: ProbsConfRow[]; conflicts: string[] }> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile && /^probs_.+\.txt$/.test(e.name)) names.push(e.name);
  names.sort();
  const rows: ProbsConfRow[] = [];
  const conflicts: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const file = parseProbsConf(await Deno.readTextFile(path), path);
    rows.push(...probsConfRows(file));
    conflicts.push(...file.conflicts.map((c) => `${n}: ${c}`));
  }
  return { rows, conflicts };
}

/** One perplexity file. */
export interface PerplexityRow {
  /** File name. */
  file: string;
  /** "pythia" or "llama-2". */
  family: string;
  /** "70m" … "6.9b", "7b". */
  size: string;
  /** "base", "sft", "dpo", "ppo", "chat". */
  variant: string;
  perplexity: number;
  /** The file's `"entropy"` key: mean negative log-likelihood in nats (null when the file has none). */
  meanNll: number | null;
  /** ln(perplexity), for comparison with meanNll. */
  lnPerplexity: number;
}

const PYTHIA_SIZES: Record<string, string> = {
  "70m": "70m",
  "160m": "160m",
  "410m": "410m",
  "1b": "1b",
  "14b": "1.4b",
  "1.4b": "1.4b",
  "28b": "2.8b",
  "2.8b": "2.8b",
  "69b": "6.9b",
  "6.9b": "6.9b",
};

/** Family, size and variant from a perplexity file name (`pythia28b-dpo-perplexity.json`, `llama-7b-…`). */
export function parsePerplexityName(path: string): { family: string; size: string; variant: string } {
  const name = basename(path);
  let m = /^pythia([\d.]+[mb])-(\w+)-perplexity\.json$/.exec(name);
  if (m && PYTHIA_SIZES[m[1]] !== undefined) {
    return { family: "pythia", size: PYTHIA_SIZES[m[1]], variant: m[2] };
  }
  m = /^llama-(\d+b)(?:-(\w+))?-perplexity\.json$/.exec(name);
  if (m) return { family: "llama-2", size: m[1], variant: m[2] ?? "base" };
  throw new PaperTableError(
    path,
    "not a perplexity file name (pythia<size>-<variant>- or llama-<size>[-<variant>]-)",
  );
}

/** Validates a parsed perplexity file: `{"perplexity": number, "entropy"?: number}`. */
export function perplexityRow(value: unknown, path: string): PerplexityRow {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new PaperTableError(path, "expected a JSON object");
  }
  const o = value as Record<string, unknown>;
  if (typeof o.perplexity !== "number" || !(o.perplexity > 0)) {
    throw new PaperTableError(
      path,
      `"perplexity": expected a positive number, got ${JSON.stringify(o.perplexity)}`,
    );
  }
  if (o.entropy !== undefined && typeof o.entropy !== "number") {
    throw new PaperTableError(path, `"entropy": expected a number, got ${JSON.stringify(o.entropy)}`);
  }
  const extra = Object.keys(o).filter((k) => k !== "perplexity" && k !== "entropy");
  if (extra.length > 0) throw new PaperTableError(path, `unexpected key(s) ${extra.join(", ")}`);
  return {
    file: basename(path),
    ...parsePerplexityName(path),
    perplexity: o.perplexity,
    meanNll: (o.entropy as number | undefined) ?? null,
    lnPerplexity: Math.log(o.perplexity),
  };
}

const FAMILY_ORDER = ["pythia", "llama-2"];
const SIZE_ORDER = ["70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "7b"];
const VARIANT_ORDER = ["base", "chat", "sft", "dpo", "ppo"];
const rank = (list: string[], x: string) => (list.includes(x) ? list.indexOf(x) : list.length);

/** Reads every `*-perplexity.json` of a folder, sorted by family (Pythia first), size and variant (base, chat, sft, dpo, ppo). */
export async function readPerplexityDir(dir: string): Promise<PerplexityRow[]> {
  const rows: PerplexityRow[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith("-perplexity.json")) continue;
    const path = join(dir, e.name);
    let value: unknown;
    try {
      value = JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      throw new PaperTableError(path, `invalid JSON: ${(err as Error).message}`);
    }
    rows.push(perplexityRow(value, path));
  }
  return rows.sort((a, b) =>
    rank(FAMILY_ORDER, a.family) - rank(FAMILY_ORDER, b.family) ||
    rank(SIZE_ORDER, a.size) - rank(SIZE_ORDER, b.size) ||
    rank(VARIANT_ORDER, a.variant) - rank(VARIANT_ORDER, b.variant)
  );
}
