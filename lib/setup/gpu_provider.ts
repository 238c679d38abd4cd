/**
 * GPU execution providers of onnxruntime-node: which ones this installation has (files on disk), and the
 * installer of the CUDA provider on a Linux x64 machine with an NVIDIA GPU behind `deno task setup:gpu`
 * (cli/setup_gpu.ts).
 *
 * What onnxruntime-node 1.30 ships (read from its package, checked on the project's CPU machines):
 * - `bin/napi-v6/<platform>/<arch>/` holds the binding and `libonnxruntime.so.1` (Linux; `.dylib` / `.dll`
 *   elsewhere). On Linux x64, Windows and macOS that library contains the WebGPU provider (Dawn); on Linux Dawn
 *   runs on Vulkan, so it needs the Vulkan loader and a GPU's Vulkan driver (Mesa's llvmpipe is refused: "No
 *   supported adapters").
 * - The CUDA provider is not in the package: its `postinstall` script (`script/install.js`) downloads
 *   `libonnxruntime_providers_{cuda,shared,tensorrt}.so` from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux
 *   (same version) into that folder, where onnxruntime loads providers from (beside `libonnxruntime.so.1`).
 *   The provider then needs the CUDA 12 runtime libraries (cuBLAS, cuFFT, cuDNN 9, …) and an NVIDIA driver.
 * - Deno runs no install script unless `deno install --allow-scripts=npm:onnxruntime-node` names the package,
 *   and once it has tried one it does not try again (it marks the script as run even when it failed, e.g.
 *   offline). So `setup:gpu` runs the package's script itself, with Deno, which is what `deno install` does.
 * - The script reads `ONNXRUNTIME_NODE_INSTALL` (`skip`; `1`/`true`/`ON` = force the platform's default; a
 *   manifest name is meant to pick one, but 1.30's parser drops such a value and falls back to the default)
 *   and the deprecated `ONNXRUNTIME_NODE_INSTALL_CUDA` (`v12` selects the `cuda12` manifest, `v11` is refused,
 *   `skip`). 1.30's metadata has one manifest, `linux/x64:cuda12`: there is no CUDA 13 choice. Proxies:
 *   `GLOBAL_AGENT_HTTPS_PROXY` (the script bootstraps global-agent).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { PROJECT_ROOT } from "../project_root.ts";

/** The providers reported. `cpu` is always there; the GPU ones depend on the platform, the files and the machine. */
export type ProviderName = "cpu" | "webgpu" | "cuda";

/**
 * What is on disk for a provider: `present` (its files are there), `built-in` (inside the main library),
 * `incomplete` (some files missing), `absent`, or `not-offered` (this package has none for the platform).
 */
export type ProviderState = "present" | "built-in" | "incomplete" | "absent" | "not-offered";

/** One file a provider needs. */
export interface ProviderFile {
  /** Absolute path. */
  path: string;
  /** Whether it exists. */
  present: boolean;
  /** Its size, when present. */
  bytes?: number;
}

/** One provider. */
export interface ProviderStatus {
  /** Provider (the `--device` value that selects it). */
  name: ProviderName;
  /** What is on disk. */
  state: ProviderState;
  /** Its library files (empty for one built into the main library). */
  files: ProviderFile[];
  /** What else it needs on this machine that was not found (empty when nothing missing is known). */
  missing: string[];
  /** One line for people. */
  detail: string;
}

/** What the machine has for GPUs, as far as files tell. */
export interface GpuMachineFacts {
  /** The NVIDIA driver: first line of `/proc/driver/nvidia/version`, or what `nvidia-smi` says; null if none. */
  nvidiaDriver: string | null;
  /**
   * Where `nvidiaDriver` comes from: `proc`, `nvidia-smi`, `none` (looked, not found), or `unknown` (not
   * looked: Deno lets a program read /proc only with --allow-all).
   */
  nvidiaDriverSource: "proc" | "nvidia-smi" | "none" | "unknown";
  /** The Vulkan loader found (`libvulkan.so.1`), or null. Linux only. */
  vulkanLoader: string | null;
  /** Vulkan driver manifests (ICD files) found. Linux only. */
  vulkanIcds: string[];
}

/** Providers of the onnxruntime-node installation transformers.js uses. */
export interface ProviderReport {
  /** The package folder (real path), or null when it is not installed. */
  packageDir: string | null;
  /** Its version, or null. */
  version: string | null;
  /** `<platform>/<arch>` as Node names them (`linux/x64`). */
  platform: string;
  /** The folder holding the binding, the main library and downloaded providers, or null. */
  binDir: string | null;
  /** One entry per provider. */
  providers: ProviderStatus[];
  /** GPU driver facts. */
  machine: GpuMachineFacts;
}

/** Options of {@link providerReport} and {@link installCudaProvider}. */
export interface ProviderReportOptions {
  /** onnxruntime-node's folder (default: the one `@huggingface/transformers` resolves, see {@link onnxruntimeNodeDir}). */
  packageDir?: string;
  /** Node-style platform (default `process.platform`). */
  platform?: string;
  /** Node-style arch (default `process.arch`). */
  arch?: string;
  /** Prefix for system paths (`/proc`, `/usr`, `/etc`), for tests (default `/`). */
  systemRoot?: string;
  /** Machine facts already gathered (e.g. by {@link detectGpuMachine}); default: {@link gpuMachineFacts}. */
  machine?: GpuMachineFacts;
}

/** The CUDA provider files of onnxruntime-node 1.30's `linux/x64:cuda12` manifest (used when it cannot be read). */
export const CUDA12_PROVIDER_FILES: readonly string[] = [
  "libonnxruntime_providers_cuda.so",
  "libonnxruntime_providers_shared.so",
  "libonnxruntime_providers_tensorrt.so",
];

/** The NuGet package the install script takes the Linux CUDA provider from. */
export const CUDA_NUGET_PACKAGE = "Microsoft.ML.OnnxRuntime.Gpu.Linux";

const MAIN_LIBRARIES = ["libonnxruntime.so.1", "libonnxruntime.1.dylib", "onnxruntime.dll"];
const WEBGPU_MARKER = "WebGpuExecutionProvider";
/** Platforms whose prebuilt binaries include WebGPU (transformers.js's table for onnxruntime-node). */
const WEBGPU_PLATFORMS = new Set(["linux/x64", "win32/x64", "win32/arm64", "darwin/x64", "darwin/arm64"]);

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * onnxruntime-node's folder as transformers.js resolves it (Node's lookup from the real folder of
 * `@huggingface/transformers` upwards), else `<root>/node_modules/onnxruntime-node`; a real path, or undefined
 * when neither exists.
 */
export function onnxruntimeNodeDir(root: string = PROJECT_ROOT): string | undefined {
  const candidates: string[] = [];
  const transformers = join(root, "node_modules", "@huggingface", "transformers");
  if (existsSync(transformers)) {
    let dir = realpathSync(transformers);
    for (let up = dirname(dir); up !== dir; dir = up, up = dirname(up)) {
      if (basename(dir) === "node_modules") candidates.push(join(dir, "onnxruntime-node"));
    }
  }
  candidates.push(join(root, "node_modules", "onnxruntime-node"));
  const found = candidates.find((c) => isFile(join(c, "package.json")));
  return found === undefined ? undefined : realpathSync(found);
}

/** `<packageDir>/bin/napi-v6/<platform>/<arch>`: where the binding loads onnxruntime and its providers from. */
export function ortBinDir(
  packageDir: string,
  platform: string = process.platform,
  arch: string = process.arch,
): string {
  return join(packageDir, "bin", "napi-v6", platform, arch);
}

/** The install script's metadata: requirements per platform, files per manifest. */
interface InstallMetadata {
  requirements: Record<string, string[]>;
  manifests: Record<string, Record<string, { package: string; path: string }>>;
  packages?: Record<string, { name: string; versions: { feed: string; version: string }[] }>;
}

/** The package's `script/install-metadata.js`, or undefined when it has none (or it cannot be read). */
export function readInstallMetadata(packageDir: string): InstallMetadata | undefined {
  const file = join(packageDir, "script", "install-metadata.js");
  if (!isFile(file)) return undefined;
  try {
    const require = createRequire(join(packageDir, "package.json"));
    const meta = require(file) as InstallMetadata;
    return typeof meta?.manifests === "object" && typeof meta?.requirements === "object" ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** The CUDA manifests the package offers for a platform (`["cuda12"]` for linux/x64 in 1.30). */
export function cudaManifests(meta: InstallMetadata | undefined, platform: string): string[] {
  if (meta === undefined) return platform === "linux/x64" ? ["cuda12"] : [];
  return Object.keys(meta.manifests)
    .filter((k) => k.startsWith(`${platform}:cuda`))
    .map((k) => k.slice(platform.length + 1));
}

/** File names of one manifest (`./libx.so` → `libx.so`). */
function manifestFiles(meta: InstallMetadata | undefined, platform: string, manifest: string): string[] {
  const m = meta?.manifests[`${platform}:${manifest}`];
  if (m === undefined) {
    return manifest === "cuda12" && platform === "linux/x64" ? [...CUDA12_PROVIDER_FILES] : [];
  }
  return Object.keys(m).map((f) => f.replace(/^\.\//, ""));
}

const markerCache = new Map<string, boolean>();

/** Whether a library file contains a byte string (cached per path, size and mtime). */
function libraryContains(path: string, marker: string): boolean {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}\0${marker}`;
  let hit = markerCache.get(key);
  if (hit === undefined) {
    hit = Buffer.from(readFileSync(path)).indexOf(marker, 0, "latin1") >= 0;
    markerCache.set(key, hit);
  }
  return hit;
}

function fileInfo(path: string): ProviderFile {
  try {
    const st = statSync(path);
    return { path, present: st.isFile(), bytes: st.size };
  } catch {
    return { path, present: false };
  }
}

/** NVIDIA driver and Vulkan facts from files (no GPU API is called). */
export function gpuMachineFacts(systemRoot = "/", platform: string = process.platform): GpuMachineFacts {
  const at = (p: string) => join(systemRoot, p);
  let nvidiaDriver: string | null = null;
  let nvidiaDriverSource: GpuMachineFacts["nvidiaDriverSource"] = "none";
  try {
    nvidiaDriver = readFileSync(at("proc/driver/nvidia/version"), "utf8").split("\n")[0].trim() || null;
    if (nvidiaDriver !== null) nvidiaDriverSource = "proc";
  } catch (e) {
    // Deno grants /proc, /dev and /sys only with --allow-all ("NotCapable"); that is not a missing driver.
    if ((e as Error)?.name === "NotCapable") nvidiaDriverSource = "unknown";
  }
  let vulkanLoader: string | null = null;
  const vulkanIcds: string[] = [];
  if (platform === "linux") {
    const libDirs = [
      ...(Deno.env.get("LD_LIBRARY_PATH") ?? "").split(":").filter((d) => d !== "" && systemRoot === "/"),
      "usr/lib/x86_64-linux-gnu",
      "usr/lib/aarch64-linux-gnu",
      "lib/x86_64-linux-gnu",
      "usr/lib64",
      "usr/lib",
      "usr/local/lib",
    ].map((d) => d.startsWith("/") ? d : at(d));
    vulkanLoader = libDirs.map((d) => join(d, "libvulkan.so.1")).find(isFile) ?? null;
    for (const d of ["usr/share/vulkan/icd.d", "etc/vulkan/icd.d", "usr/local/share/vulkan/icd.d"]) {
      try {
        for (const f of readdirSync(at(d)).sort()) if (f.endsWith(".json")) vulkanIcds.push(join(at(d), f));
      } catch {
        // no such folder
      }
    }
  }
  return { nvidiaDriver, nvidiaDriverSource, vulkanLoader, vulkanIcds };
}

/**
 * {@link gpuMachineFacts}, and where /proc named no driver (or could not be read), `nvidia-smi`'s driver version
 * and GPU names (needs --allow-run; a missing nvidia-smi leaves the facts as they were).
 */
export async function detectGpuMachine(
  systemRoot = "/",
  platform: string = process.platform,
): Promise<GpuMachineFacts> {
  const facts = gpuMachineFacts(systemRoot, platform);
  if (facts.nvidiaDriverSource === "proc" || systemRoot !== "/") return facts;
  try {
    const out = await new Deno.Command("nvidia-smi", {
      args: ["--query-gpu=driver_version,name", "--format=csv,noheader"],
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(20_000),
    }).output();
    const rows = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l.trim() !== "");
    if (out.success && rows.length > 0) {
      const [version] = rows[0].split(",").map((x) => x.trim());
      const names = rows.map((r) => r.split(",").slice(1).join(",").trim());
      return {
        ...facts,
        nvidiaDriver: `NVIDIA driver ${version} (${names.join("; ")})`,
        nvidiaDriverSource: "nvidia-smi",
      };
    }
  } catch {
    // no nvidia-smi, or not allowed to run it
  }
  return facts;
}

/** Whether an ICD manifest is Mesa's software rasteriser (lavapipe / llvmpipe), which Dawn refuses. */
function isSoftwareIcd(path: string): boolean {
  return /(^|[/_])lvp_icd|lavapipe|llvmpipe/i.test(basename(path));
}

/**
 * Which execution providers this onnxruntime-node installation has, from the files on disk (nothing is loaded
 * and no GPU is touched): the CPU provider, WebGPU when the main library contains it, CUDA when the files the
 * install script downloads are present; with what each still needs on this machine.
 */
export function providerReport(opts: ProviderReportOptions = {}): ProviderReport {
  const platform = `${opts.platform ?? process.platform}/${opts.arch ?? process.arch}`;
  const [os] = platform.split("/");
  const machine = opts.machine ?? gpuMachineFacts(opts.systemRoot ?? "/", os);
  const packageDir = opts.packageDir ?? onnxruntimeNodeDir() ?? null;
  if (packageDir === null || !isFile(join(packageDir, "package.json"))) {
    const detail = "onnxruntime-node is not installed (run `deno task setup`)";
    return {
      packageDir: null,
      version: null,
      platform,
      binDir: null,
      machine,
      providers: (["cpu", "webgpu", "cuda"] as const).map((name) => ({
        name,
        state: "absent" as const,
        files: [],
        missing: ["onnxruntime-node"],
        detail,
      })),
    };
  }
  let version: string | null = null;
  try {
    version = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version ?? null;
  } catch {
    version = null;
  }
  const binDir = ortBinDir(packageDir, os, platform.split("/")[1]);
  const mainLib = MAIN_LIBRARIES.map((f) => join(binDir, f)).find(isFile);
  const binding = fileInfo(join(binDir, "onnxruntime_binding.node"));

  const cpu: ProviderStatus = mainLib !== undefined && binding.present
    ? { name: "cpu", state: "built-in", files: [fileInfo(mainLib), binding], missing: [], detail: "built in" }
    : {
      name: "cpu",
      state: "absent",
      files: [binding],
      missing: [`${binDir}/${MAIN_LIBRARIES[0]} and the binding`],
      detail: `no onnxruntime library for ${platform} in ${binDir}`,
    };

  let webgpu: ProviderStatus;
  if (mainLib !== undefined && libraryContains(mainLib, WEBGPU_MARKER)) {
    const missing: string[] = [];
    if (os === "linux") {
      if (machine.vulkanLoader === null) missing.push("the Vulkan loader (libvulkan.so.1)");
      const hardware = machine.vulkanIcds.filter((f) => !isSoftwareIcd(f));
      if (hardware.length === 0) {
        missing.push(
          machine.vulkanIcds.length > 0
            ? "a GPU Vulkan driver (only Mesa's software llvmpipe is installed, which Dawn refuses)"
            : "a GPU Vulkan driver (no Vulkan ICD file in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)",
        );
      }
    }
    webgpu = {
      name: "webgpu",
      state: "built-in",
      files: [],
      missing,
      detail: `built into ${basename(mainLib)} (Dawn${os === "linux" ? " on Vulkan" : ""})` +
        (missing.length > 0 ? `; needs ${missing.join(" and ")}` : ""),
    };
  } else {
    webgpu = {
      name: "webgpu",
      state: mainLib === undefined ? "absent" : "not-offered",
      files: [],
      missing: [],
      detail: WEBGPU_PLATFORMS.has(platform)
        ? `not found in ${mainLib ?? "the onnxruntime library"}`
        : `onnxruntime-node has no WebGPU build for ${platform}`,
    };
  }

  const meta = readInstallMetadata(packageDir);
  const manifests = cudaManifests(meta, platform);
  let cuda: ProviderStatus;
  if (manifests.length === 0) {
    cuda = {
      name: "cuda",
      state: "not-offered",
      files: [],
      missing: [],
      detail: `onnxruntime-node ${
        version ?? ""
      } offers no CUDA provider for ${platform} (only for linux/x64)`,
    };
  } else {
    const files = manifestFiles(meta, platform, manifests[0]).map((f) => fileInfo(join(binDir, f)));
    const have = files.filter((f) => f.present).length;
    const missing: string[] = [];
    if (have < files.length) missing.push(`provider files (run \`deno task setup:gpu\`)`);
    if (machine.nvidiaDriverSource === "none") missing.push("an NVIDIA driver (none found)");
    const state: ProviderState = have === files.length ? "present" : have === 0 ? "absent" : "incomplete";
    cuda = {
      name: "cuda",
      state,
      files,
      missing,
      detail: (state === "present"
        ? `${manifests[0]} provider files in ${binDir}`
        : state === "absent"
        ? `not installed (${manifests.join(", ")} offered; \`deno task setup:gpu\` downloads it)`
        : `incomplete: ${
          files.filter((f) => !f.present).map((f) =>
            basename(f.path)
          ).join(", ")
        } missing`) +
        (machine.nvidiaDriverSource === "none"
          ? "; no NVIDIA driver on this machine"
          : machine.nvidiaDriverSource === "unknown"
          ? "; NVIDIA driver not checked (Deno reads /proc only with --allow-all)"
          : ""),
    };
  }
  return { packageDir, version, platform, binDir, machine, providers: [cpu, webgpu, cuda] };
}

/** The report as lines for a terminal. */
export function formatProviderReport(r: ProviderReport): string {
  const lines = [
    `onnxruntime-node ${r.version ?? "(not installed)"}${
      r.packageDir ? ` at ${r.packageDir}` : ""
    } (${r.platform})`,
  ];
  for (const p of r.providers) lines.push(`  ${p.name.padEnd(7)} ${p.state.padEnd(12)} ${p.detail}`);
  lines.push(
    `  NVIDIA driver: ${
      r.machine.nvidiaDriver ??
        (r.machine.nvidiaDriverSource === "unknown"
          ? "not checked (needs --allow-all to read /proc)"
          : "none found")
    }`,
  );
  if (r.platform.startsWith("linux/")) {
    lines.push(
      `  Vulkan: loader ${r.machine.vulkanLoader ?? "not found"}; drivers ${
        r.machine.vulkanIcds.length > 0 ? r.machine.vulkanIcds.map((f) => basename(f)).join(", ") : "none"
      }`,
    );
  }
  return lines.join("\n");
}

/** Libraries `ldd` reports as "not found" for a shared library; null when ldd cannot be run. */
async function unresolvedLibraries(library: string): Promise<string[] | null> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ldd", { args: [library], stdout: "piped", stderr: "piped" }).output();
  } catch {
    return null;
  }
  return parseLddNotFound(new TextDecoder().decode(out.stdout));
}

/** The sonames of `ldd` output lines `libx.so.1 => not found`, in order, once each. */
export function parseLddNotFound(lddOutput: string): string[] {
  const names = lddOutput.split("\n").map((l) => /^\s*(\S+)\s+=>\s+not found/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)];
}

/** A set-up failure with what is missing, for people. */
export class GpuSetupError extends Error {
  override name = "GpuSetupError";
}

/** Options of {@link installCudaProvider}. */
export interface InstallCudaOptions extends ProviderReportOptions {
  /** CUDA major version to install the provider for (default `12`, the only one onnxruntime-node 1.30 offers). */
  cuda?: string;
  /** Download again even when the files are present. */
  force?: boolean;
  /** Install even where no NVIDIA driver is found (e.g. to prepare an image). */
  skipGpuCheck?: boolean;
  /** Take the files from a folder or a `.nupkg` of the NuGet package instead of downloading it. */
  from?: string;
  /** The Deno executable that runs the package's script (default: this one). */
  deno?: string;
  /** Limit for the download in milliseconds (default 1,800,000). */
  timeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@link installCudaProvider} did. */
export interface InstallCudaResult {
  /** `already-present`, `installed` (downloaded by the script) or `copied` (from `--from`). */
  action: "already-present" | "installed" | "copied";
  /** The provider report afterwards. */
  report: ProviderReport;
  /** Libraries the CUDA provider links to that the system lacks (`ldd`); null when not checked. */
  unresolved: string[] | null;
}

const NETWORK_FAILURE =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|getaddrinfo|socket hang up/i;

/**
 * Installs onnxruntime-node's CUDA provider: checks that the package offers one for this platform and CUDA
 * version and that the machine has an NVIDIA driver, then runs the package's own install script under Deno (or
 * copies the files from `from`), and checks that every file is where onnxruntime loads providers from. Throws a
 * {@link GpuSetupError} saying what is missing.
 */
export async function installCudaProvider(opts: InstallCudaOptions = {}): Promise<InstallCudaResult> {
  const log = opts.log ?? (() => {});
  const platform = `${opts.platform ?? process.platform}/${opts.arch ?? process.arch}`;
  const packageDir = opts.packageDir ?? onnxruntimeNodeDir();
  if (packageDir === undefined || !isFile(join(packageDir, "package.json"))) {
    throw new GpuSetupError(
      "onnxruntime-node is not installed in this project: run `deno task setup` (or `deno install`) first",
    );
  }
  const meta = readInstallMetadata(packageDir);
  const offered = cudaManifests(meta, platform);
  const cuda = opts.cuda ?? "12";
  const manifest = `cuda${cuda.replace(/^v/, "")}`;
  if (offered.length === 0) {
    throw new GpuSetupError(
      `onnxruntime-node offers a CUDA provider only for Linux x64; this is ${platform}. ` +
        "On this platform use --device cpu (or webgpu where the machine has a GPU driver for it)",
    );
  }
  if (!offered.includes(manifest)) {
    throw new GpuSetupError(
      `onnxruntime-node at ${packageDir} offers the CUDA provider for ${offered.join(", ")} only, not ` +
        `${manifest}; its CUDA 12 build runs on newer drivers too, but needs the CUDA 12 runtime libraries`,
    );
  }
  const machine = opts.machine ?? await detectGpuMachine(opts.systemRoot ?? "/", platform.split("/")[0]);
  const reportOpts = { ...opts, packageDir, machine };
  const before = providerReport(reportOpts);
  if (machine.nvidiaDriver === null && !opts.skipGpuCheck) {
    throw new GpuSetupError(
      (machine.nvidiaDriverSource === "unknown"
        ? "could not check for an NVIDIA driver (Deno reads /proc only with --allow-all, and nvidia-smi " +
          "did not answer): run with `deno run -A`, or"
        : "no NVIDIA GPU driver on this machine (no /proc/driver/nvidia/version, no nvidia-smi): the CUDA " +
          "provider could not run here. Install the driver first, or") +
        " pass --skip-gpu-check to install the files anyway",
    );
  }
  const cudaBefore = before.providers.find((p) => p.name === "cuda")!;
  const files = manifestFiles(meta, platform, manifest);
  const binDir = before.binDir!;
  let action: InstallCudaResult["action"];
  if (cudaBefore.state === "present" && !opts.force && opts.from === undefined) {
    log(`CUDA provider files already present in ${binDir}`);
    action = "already-present";
  } else if (opts.from !== undefined) {
    await copyProviderFiles(opts.from, files, binDir, packageDir, log);
    action = "copied";
  } else {
    await runInstallScript(packageDir, cuda, opts, log);
    action = "installed";
  }
  const report = providerReport(reportOpts);
  const cudaAfter = report.providers.find((p) => p.name === "cuda")!;
  const absent = cudaAfter.files.filter((f) => !f.present).map((f) => basename(f.path));
  if (absent.length > 0) {
    throw new GpuSetupError(
      `the install step finished but ${absent.join(", ")} ${
        absent.length > 1 ? "are" : "is"
      } still missing ` +
        `from ${binDir}, where onnxruntime loads its providers from`,
    );
  }
  const provider = join(binDir, files.find((f) => f.includes("providers_cuda")) ?? files[0]);
  const unresolved = await unresolvedLibraries(provider);
  return { action, report, unresolved };
}

/** Runs `script/install.js` of the package with Deno, choosing the CUDA manifest through its environment. */
async function runInstallScript(
  packageDir: string,
  cuda: string,
  opts: InstallCudaOptions,
  log: (line: string) => void,
): Promise<void> {
  const script = join(packageDir, "script", "install.js");
  if (!isFile(script)) {
    throw new GpuSetupError(`${script} not found: this onnxruntime-node has no install script`);
  }
  const env = Deno.env.toObject();
  // An inherited "skip" would make the script do nothing; the deprecated variable is the one 1.30 honours for
  // an explicit CUDA 12 choice (a manifest name in ONNXRUNTIME_NODE_INSTALL falls back to the default there).
  delete env.ONNXRUNTIME_NODE_INSTALL;
  delete env.npm_config_onnxruntime_node_install;
  delete env.npm_config_onnxruntime_node_install_cuda;
  const major = cuda.replace(/^v/, "");
  if (major === "12") env.ONNXRUNTIME_NODE_INSTALL_CUDA = "v12";
  else env.ONNXRUNTIME_NODE_INSTALL = `cuda${major}`;
  const deno = opts.deno ?? Deno.execPath();
  log(`running ${script} (downloads ${CUDA_NUGET_PACKAGE} from the NuGet feed, several hundred MB)`);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(deno, {
      args: ["run", "--allow-all", script],
      cwd: packageDir,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 1_800_000),
    }).output();
  } catch (e) {
    throw new GpuSetupError(`could not run ${deno} for the install script: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  for (const line of text.split("\n")) if (line.trim() !== "") log(`  ${stripAnsi(line)}`);
  if (out.success) return;
  const why = NETWORK_FAILURE.test(text)
    ? `the download of ${CUDA_NUGET_PACKAGE} failed: this machine cannot reach the NuGet feed (offline, or ` +
      "behind a proxy: set GLOBAL_AGENT_HTTPS_PROXY). On a machine with network, download that package " +
      `(version ${versionOf(packageDir) ?? "of this onnxruntime-node"}, a .nupkg) and run ` +
      "`deno task setup:gpu --from <file.nupkg>` here"
    : `onnxruntime-node's install script failed (exit code ${out.code})`;
  const last = text.split("\n").map(stripAnsi).filter((l) => /error/i.test(l)).slice(0, 3).join(" | ");
  throw new GpuSetupError(`${why}${last ? `. Script said: ${last}` : ""}`);
}

function versionOf(packageDir: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

/** Every file under a folder whose name is one of `names` (the first found per name). */
function findFiles(root: string, names: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (names.includes(entry.name) && !found.has(entry.name)) found.set(entry.name, path);
    }
  };
  walk(root, 0);
  return found;
}

/**
 * Copies the provider files from a folder (searched recursively, e.g. an unpacked NuGet package) or from a
 * `.nupkg` / `.zip` (read with adm-zip, the install script's own dependency) into `binDir`.
 */
async function copyProviderFiles(
  from: string,
  files: readonly string[],
  binDir: string,
  packageDir: string,
  log: (line: string) => void,
): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(from);
  } catch {
    throw new GpuSetupError(`--from ${from}: no such file or folder`);
  }
  await Deno.mkdir(binDir, { recursive: true });
  if (st.isDirectory) {
    const found = findFiles(from, files);
    const lacking = files.filter((f) => !found.has(f));
    if (lacking.length > 0) throw new GpuSetupError(`--from ${from}: ${lacking.join(", ")} not found in it`);
    for (const f of files) {
      await Deno.copyFile(found.get(f)!, join(binDir, f));
      log(`copied ${found.get(f)} → ${join(binDir, f)}`);
    }
    return;
  }
  let AdmZip: new (path: string) => {
    getEntries(): { entryName: string; isDirectory: boolean; getData(): Uint8Array }[];
  };
  try {
    AdmZip = createRequire(join(packageDir, "package.json"))("adm-zip");
  } catch (e) {
    throw new GpuSetupError(`cannot read ${from}: adm-zip (onnxruntime-node's dependency) is missing`, {
      cause: e,
    });
  }
  let entries;
  try {
    entries = new AdmZip(from).getEntries();
  } catch (e) {
    throw new GpuSetupError(`--from ${from}: not a readable .nupkg/.zip (${(e as Error).message})`, {
      cause: e,
    });
  }
  for (const f of files) {
    // The install script takes runtimes/linux-x64/native/<file>; any folder of the archive is accepted here.
    const entry = entries.find((e) => !e.isDirectory && basename(e.entryName) === f);
    if (entry === undefined) throw new GpuSetupError(`--from ${from}: ${f} not found in the archive`);
    await Deno.writeFile(join(binDir, f), entry.getData());
    log(`extracted ${entry.entryName} → ${join(binDir, f)}`);
  }
}
