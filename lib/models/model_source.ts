/**
 * Where a model named on the command line or in a study comes from: an existing folder, a preset name
 * (`data/models/<preset>/`, or with remote loading its hub export), or a hub-like id `<owner>/<name>`
 * (`data/models/<owner>/<name>/`, or with remote loading the Hugging Face hub).
 * @module
 */
import { statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { PROJECT_ROOT } from "../project_root.ts";
import { suggestion } from "../io/schema.ts";
import { findPreset, listPresets, type ModelPreset } from "./presets.ts";

/** Where preset names and hub ids are looked up (`data/models/<preset>`, `data/models/<owner>/<name>`). */
export const MODELS_DIR: string = join(PROJECT_ROOT, "data", "models");

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Where a source string points: a local folder, or a hub id (with its revision) to download. */
export interface ResolvedSource {
  /** Absolute local folder. */
  folder?: string;
  /** Hub id to download (only with allowRemote). */
  hubId?: string;
  /** Hub revision of `hubId`. */
  revision?: string;
  /** The preset the source named, if it named one. */
  preset?: ModelPreset;
}

/**
 * Resolves a source: an existing folder; else a preset name (`data/models/<name>/`, or with `allowRemote` the
 * preset's transformers.js export or hub id); else a hub id (`data/models/<owner>/<name>/`, or with
 * `allowRemote` the hub).
 */
export function resolveModelSource(
  source: string,
  allowRemote = false,
  modelsDir = MODELS_DIR,
): ResolvedSource {
  const direct = resolve(source);
  if (isDir(direct)) return { folder: direct };
  const preset = findPreset(source);
  if (preset !== undefined) {
    const folder = join(modelsDir, preset.name);
    if (isDir(folder)) return { folder, preset };
    if (allowRemote) {
      // A PyTorch-only repo cannot be loaded by transformers.js; a known export of the same weights can.
      const hubId = preset.onnxExportId ?? preset.hubId;
      return { hubId, revision: preset.onnxExportId ? "main" : preset.revision, preset };
    }
    throw new Error(
      `model preset "${source}" (${preset.hubId}@${preset.revision}) has no local folder ${folder}: put a ` +
        "transformers.js export there (see docs/MODELS.md), or pass allowRemote: true on a machine that " +
        "can reach the Hugging Face hub",
    );
  }
  if (!isAbsolute(source) && !source.startsWith(".") && HUB_ID.test(source)) {
    const folder = join(modelsDir, source);
    if (isDir(folder)) return { folder };
    if (allowRemote) return { hubId: source, revision: "main" };
    throw new Error(
      `"${source}" is not a local folder (also looked for ${folder}) and remote loading is off ` +
        "(allowRemote: false); see docs/MODELS.md",
    );
  }
  const names = listPresets().map((p) => p.name);
  throw new Error(
    `model folder not found: ${direct}; "${source}" is neither a folder, a preset nor a hub id` +
      `${suggestion(source, names)} (presets: ${names.join(", ")})`,
  );
}
