/**
 * `deno task setup:gpu`: installs onnxruntime-node's CUDA provider on a Linux x64 machine with an NVIDIA GPU
 * (lib/setup/gpu_provider.ts), or reports which providers this installation has; with `--smoke` it then proves
 * the provider by running the tiny test model on CUDA and on the CPU (lib/models/gpu_check.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { smokeTest } from "../lib/models/gpu_check.ts";
import {
  CUDA_NUGET_PACKAGE,
  detectGpuMachine,
  formatProviderReport,
  installCudaProvider,
  onnxruntimeNodeDir,
  providerReport,
} from "../lib/setup/gpu_provider.ts";
import { PROJECT_ROOT } from "../lib/project_root.ts";
import { formatScientific } from "../lib/numeric/number_format.ts";

const USAGE =
  `usage: deno task setup:gpu [install] [--cuda 12] [--force] [--from <dir|file.nupkg>] [--skip-gpu-check]
                                [--smoke] [--json]
       deno task setup:gpu report [--json]
  install (default)   put onnxruntime-node's CUDA provider where it loads providers from: runs the package's own
                      install script with Deno (a download from the NuGet feed), or copies the files from --from
  report              which providers this installation has (files on disk) and what each still needs
  --cuda 12           CUDA major version (onnxruntime-node 1.30 offers 12 only)
  --force             download again even when the files are present
  --from <path>       a folder or .nupkg of ${CUDA_NUGET_PACKAGE} (same version), for machines without network
  --skip-gpu-check    install even without an NVIDIA driver (e.g. to prepare an image)
  --smoke             afterwards, run the tiny test model on CUDA and on the CPU and compare the logits`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      cuda: { type: "string", default: "12" },
      force: { type: "boolean", default: false },
      from: { type: "string" },
      "skip-gpu-check": { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const command = positionals[0] ?? "install";
  if (positionals.length > 1 || !["install", "report"].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  if (command === "report") {
    const r = providerReport({ machine: await detectGpuMachine() });
    console.log(values.json ? JSON.stringify(r, null, 1) : formatProviderReport(r));
    return 0;
  }
  if (onnxruntimeNodeDir() === undefined) {
    console.error("setup:gpu: node_modules has no onnxruntime-node; running `deno install` (no scripts)");
    const st = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: PROJECT_ROOT }).output();
    if (!st.success) {
      console.error("setup:gpu: `deno install` failed; run `deno task setup` first");
      return 1;
    }
  }
  try {
    const result = await installCudaProvider({
      cuda: values.cuda,
      force: values.force,
      from: values.from,
      skipGpuCheck: values["skip-gpu-check"],
      log: (line) => console.error(`setup:gpu: ${line}`),
    });
    console.error(formatProviderReport(result.report));
    if (values.json) console.log(JSON.stringify(result, null, 1));
    if (result.unresolved !== null && result.unresolved.length > 0) {
      console.error(
        `setup:gpu: the CUDA provider is installed (${result.action}) but cannot load yet: the system lacks ` +
          `${result.unresolved.join(", ")}. Install the CUDA 12 runtime libraries and cuDNN 9 (system ` +
          "packages, or pip's nvidia-*-cu12 wheels with their lib folders on LD_LIBRARY_PATH), then " +
          "`deno task setup:gpu report`",
      );
      return 3;
    }
    if (values.smoke) {
      const s = await smokeTest("cuda");
      console.error(
        `setup:gpu: smoke test: tiny model on cuda vs cpu, ${s.seq} positions × ${s.vocab} logits, ` +
          `largest difference ${formatScientific(s.maxAbsDiff, 2)}`,
      );
      if (!(s.maxAbsDiff < 1e-3)) return 4;
    }
    console.error(`setup:gpu: CUDA provider ${result.action}; use --device cuda`);
    return 0;
  } catch (e) {
    console.error(`setup:gpu: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
