/**
 * The paper's result files: where they come from and their sha256, so a user can fetch them (when online) into a
 * local folder and every file is verified before use. The files themselves are not part of this project (the
 * original repository has no licence); the notebooks and `reproduce --paper-dir` read them from that folder.
 * @module
 */
import { sha256Hex as sha256 } from "../io/sha256.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";

/** The original repository. */
export const PAPER_REPOSITORY = "lauraaisling/analyse-llms";

/** The commit whose `results/` folder holds the files. */
export const PAPER_COMMIT = "7885c15c8acf2f8083cd0e8651a8f54a44dc8e82";

/** Where the raw files are served (`<base>/<path>`). */
const PAPER_RAW_BASE = `https://raw.githubusercontent.com/${PAPER_REPOSITORY}/${PAPER_COMMIT}/results`;

/** Every result file: path under `results/` and its sha256 (49 files). */
export const PAPER_FILES: readonly (readonly [path: string, sha256: string])[] = [
  [
    "completions/pythia-2.8b-dpo_completions_creative_max_length70.npy",
    "d68ae8d664979b66118e388f2916168778e56eee5272fd0b0b26cfcd2acc1dbd",
  ],
  [
    "completions/pythia-2.8b-dpo_completions_factual_max_length25.npy",
    "f5293e59ad9b3415daaa868b2af2fb83000c908eb2dc534589416d2100f37085",
  ],
  [
    "completions/pythia-2.8b-sft_completions_creative_max_length70.npy",
    "cfad5e8f0edaf23742dac0806d482d96e00dcb7dd8e0c17ee643207029583621",
  ],
  [
    "completions/pythia-2.8b-sft_completions_factual_max_length25.npy",
    "5836268ac29344fce37d65527f1fada7f89fa2f9cf7ccd268cc81eb9a07f3ed4",
  ],
  [
    "completions/pythia-2.8b_completions_creative_max_length70.npy",
    "dc7f37c22a511de3780be1b7bb3c1f873c6fc9fa987998cedd48fab8712448e3",
  ],
  [
    "completions/pythia-2.8b_completions_factual_max_length25.npy",
    "a20f169659b9b4c3ca70c003fb08324fc970c53cad18d4d8c8f5c8f7c52f4da1",
  ],
  [
    "creative_factual/pythia-2.8b-dpo_results_20_words.npy",
    "6e143ba9ff8a206cfd63043f7d95ace42d619c5a5bc18e713148f720621a3118",
  ],
  [
    "creative_factual/pythia-2.8b-dpo_results_5_words.npy",
    "1484bb745478172c61aae1b69ff4cac70281daa34c4d3daaae460ee6dd50d659",
  ],
  [
    "creative_factual/pythia-2.8b-sft_results_20_words.npy",
    "9301d79904384f6d23c74afff60fad6f5293c9a7b4397e4dba8ba074bb579b48",
  ],
  [
    "creative_factual/pythia-2.8b-sft_results_5_words.npy",
    "7b4935dd1af77045eec5b4dcf290aac12e08237d5e365455a84b39596defdd7c",
  ],
  [
    "creative_factual/pythia-2.8b_results_20_words.npy",
    "158556a24d09f9483ced068fe3a6e96ce73d7f388bc34a7d87ef443919e7dfbe",
  ],
  [
    "creative_factual/pythia-2.8b_results_5_words.npy",
    "e3c895fa9205c0ef2586efc1876f63189b395d2bd8f351e30c079b5f4eccf12b",
  ],
  [
    "perplexity/llama-7b-chat-perplexity.json",
    "2e5a957417547bfb8f5379af9567b8caa3af07e03534ad59e78bd5016defad48",
  ],
  [
    "perplexity/llama-7b-dpo-perplexity.json",
    "2d457695d2a98d83ebece5cc43886888259c97ce3aae01ea75d56f64bf89ceea",
  ],
  ["perplexity/llama-7b-perplexity.json", "f45ae5e1f6bcb53ffb0fbecb4b96f171e126a3180e58cf37334ba68bd325903b"],
  [
    "perplexity/llama-7b-ppo-perplexity.json",
    "7f554a769ccd49ff9e1079cd3660de8c4bbde691c2b7fdc9cb1e8d6072243a06",
  ],
  [
    "perplexity/llama-7b-sft-perplexity.json",
    "38f22c6c23e552a4688240f155e5470a771713fee7ea005628cd60850c8225a9",
  ],
  [
    "perplexity/pythia14b-base-perplexity.json",
    "f112b17d9c5167fc5286c1e8427d2f3155fbacbbb95a8529235b0e6c8054ec65",
  ],
  [
    "perplexity/pythia14b-dpo-perplexity.json",
    "997d76e5c558990e1ea1e74e5a05dfd0b8318ad66a3095b3df6d651cac9a793b",
  ],
  [
    "perplexity/pythia14b-sft-perplexity.json",
    "a565f9ca927677a5d2169224aef9bf04592b54efd6bb3417df967bd7024f21e0",
  ],
  [
    "perplexity/pythia160m-base-perplexity.json",
    "70ca8eab7ba84e57ada1e17fed13949f9046c830634b62391cf003a8c4a51cae",
  ],
  [
    "perplexity/pythia160m-dpo-perplexity.json",
    "7fd122e38282e3695327de1406e7aeeb8c1e3233cf100c2c503a7ce35228c269",
  ],
  [
    "perplexity/pythia160m-sft-perplexity.json",
    "0be7e878df700d78905cfa182ce5d8c7e5469ae781cc1574e62d886f45964aee",
  ],
  [
    "perplexity/pythia1b-base-perplexity.json",
    "1c015a78dad3d535821eb98541c276abbed41045fb5ea8330b4d21c353a97119",
  ],
  [
    "perplexity/pythia1b-dpo-perplexity.json",
    "1f4846bf2f400467c58cb2d4a13af5aadb496bfc028622878cfa646b7f8caa2f",
  ],
  [
    "perplexity/pythia1b-sft-perplexity.json",
    "2e11df48cc1d47acf51f5ca41c1fba1b43fac413c54b1452d557efa1c4b1d106",
  ],
  [
    "perplexity/pythia2.8b-base-perplexity.json",
    "dc152ee9a07d3a766f44404011e6facd0d579fd5311ff4c7d1155a9469c4babd",
  ],
  [
    "perplexity/pythia2.8b-sft-perplexity.json",
    "279f3bdd0bb1a63f9e2e56b8e63dc1ca3c900bc9f61b1f7b303369da23ab63a9",
  ],
  [
    "perplexity/pythia28b-dpo-perplexity.json",
    "4b4a33e61d5cc7c4fea3b515b563416bf9ebfc01dfd510ba17c2f4b97f1fb4d9",
  ],
  [
    "perplexity/pythia410m-base-perplexity.json",
    "34eb1f27e0c8a6ddc2fe496283f64191abcb4fed8ca3c2d2c05c12a35d0aa34c",
  ],
  [
    "perplexity/pythia410m-dpo-perplexity.json",
    "9b66cbf4128a0f7692f9e31910e9a5a21139ecdd1a418248d684edf5d7d15a65",
  ],
  [
    "perplexity/pythia410m-sft-perplexity.json",
    "d9376f1cd7ec014ac6dd958b7044b31fa87f4f8f6721c14aa2fe57157d33e660",
  ],
  [
    "perplexity/pythia69b-base-perplexity.json",
    "b798c9dc089f30a06bb756a5efff11901b2650b1abc0d66869866e509f88198e",
  ],
  [
    "perplexity/pythia69b-dpo-perplexity.json",
    "bc650cfb13739ee9ad487b4e3300ba5d10dfc681ccee4e14a91b83c621d7facd",
  ],
  [
    "perplexity/pythia69b-ppo-perplexity.json",
    "41852024429cec95a38a0867239f387b17daa3b39ecc48978153e17546a1790a",
  ],
  [
    "perplexity/pythia69b-sft-perplexity.json",
    "600c623a861e291a5c282eb3c05b4d4742d4bb2d938ce0d2271b6c573f7398e3",
  ],
  [
    "perplexity/pythia70m-base-perplexity.json",
    "776c084fe816ca04089be04cb391697f0d1c757756b5659dd6a2f4420508b147",
  ],
  [
    "perplexity/pythia70m-dpo-perplexity.json",
    "6b284a130a1e42db062ac0e69e76ade9f64f2f6203fab476761b150e9c7a18c4",
  ],
  [
    "perplexity/pythia70m-sft-perplexity.json",
    "4051e317dd80fee2ca2309f2ae586446f2da6a4a8cd5373737dd056fd6617c26",
  ],
  ["probs_conf/probs_1.4b.txt", "bda29b06a4b276d59dc6006c17e9167a6d51794e71a89dfe0e3d39458891beea"],
  ["probs_conf/probs_160m.txt", "defd4be6b5d391ba5bf70d6a5eb57bd9a5b11c231ffb15aa8a9c965d67b5909a"],
  ["probs_conf/probs_1b.txt", "6926d264ed97a76890fb51deb3459bedf374d94dcb69362a40bae21021403c01"],
  ["probs_conf/probs_2.8b.txt", "265ffe4b08acd8738836dd22cfe2e662c2e206a678b2d8005bc393e8ac8e8c2d"],
  ["probs_conf/probs_410m.txt", "98aa40bbbecc965df9a2517d82cef050d15b09ad65ecc0e89ca4defe0179d5f0"],
  ["probs_conf/probs_6.9b.txt", "3ff4788b41e7130c8c7b9f3deb3c46efd1bcdef96348b94340e82443ef4698eb"],
  ["probs_conf/probs_70m.txt", "d2bb513080bd9108a4e81316d9490a146d82c0986f03986108340f0675892705"],
  [
    "probs_conf/probs_llama-contextualAI.txt",
    "09a4712d2fd71b9cfbefd08714b7ab054e1a6a52724109dd5f48b2cce984abeb",
  ],
  ["probs_conf/probs_llama.txt", "1fecdf230da23e3e7047d1b30c59e940165283401027018b4f0b66f87fba616b"],
  [
    "probs_conf/probs_pythia_base_llama.txt",
    "0a76c8e30f0167def7969fb478ddc98c5696fd03ee1e89537395fcc324d5c8b9",
  ],
];

/** The state of a local folder of paper files. */
export interface PaperDirCheck {
  /** Files present with the right hash. */
  ok: string[];
  /** Files absent. */
  missing: string[];
  /** Files present with another hash: `path: expected …, got …`. */
  corrupt: string[];
}

/** Checks a folder laid out like `results/` (e.g. a `--fetch-paper` download) against {@link PAPER_FILES}. */
export async function checkPaperDir(dir: string): Promise<PaperDirCheck> {
  const out: PaperDirCheck = { ok: [], missing: [], corrupt: [] };
  for (const [path, expected] of PAPER_FILES) {
    const full = join(dir, path);
    if (!existsSync(full)) {
      out.missing.push(path);
      continue;
    }
    const got = sha256(await Deno.readFile(full));
    if (got === expected) out.ok.push(path);
    else out.corrupt.push(`${path}: expected sha256 ${expected}, got ${got}`);
  }
  return out;
}

/** Options of {@link fetchPaperFiles}. */
export interface FetchPaperOptions {
  /** Base URL (default {@link PAPER_RAW_BASE}); `file://` URLs work too (a local mirror). */
  baseUrl?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * Fetches every paper file missing from `dest` (or present with a wrong hash), verifies its sha256 and writes it
 * atomically. A file whose hash differs is never written; the error names the URL and both hashes.
 */
export async function fetchPaperFiles(dest: string, opts: FetchPaperOptions = {}): Promise<PaperDirCheck> {
  const base = (opts.baseUrl ?? PAPER_RAW_BASE).replace(/\/$/, "");
  const before = await checkPaperDir(dest);
  const wanted = [...before.missing, ...before.corrupt.map((c) => c.slice(0, c.indexOf(":")))];
  for (const path of wanted) {
    const url = `${base}/${path}`;
    let bytes: Uint8Array;
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new Error(
        `could not fetch ${url} (${
          (e as Error).message
        }); this machine may be offline: copy the paper's files ` +
          `into ${dest} by hand (layout: ${PAPER_FILES[0][0]}, …) and pass that folder`,
      );
    }
    const expected = PAPER_FILES.find(([p]) => p === path)![1];
    const got = sha256(bytes);
    if (got !== expected) {
      throw new Error(`${url}: sha256 ${got}, expected ${expected}; not written`);
    }
    await writeFileAtomic(join(dest, path), bytes);
    opts.log?.(`paper: ${path} (${bytes.length} bytes, sha256 verified)`);
  }
  return await checkPaperDir(dest);
}
