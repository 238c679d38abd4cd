/**
 * GPU providers of onnxruntime-node: the report on this (CPU) machine from the real package, and the CUDA install
 * path on fake packages (a stand-in install script, fake /proc and Vulkan files), so that nothing is downloaded
 * and the real node_modules is never written to.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { Buffer } from "node:buffer";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import {
  CUDA12_PROVIDER_FILES,
  cudaManifests,
  formatProviderReport,
  gpuMachineFacts,
  GpuSetupError,
  installCudaProvider,
  onnxruntimeNodeDir,
  ortBinDir,
  parseLddNotFound,
  providerReport,
  readInstallMetadata,
} from "../../lib/setup/gpu_provider.ts";
import { smokeTest } from "../../lib/models/gpu_check.ts";

const REAL = onnxruntimeNodeDir();

Deno.test({
  name:
    "gpu provider report: this installation (CPU built in; WebGPU built into the Linux x64 library; CUDA files)",
  ignore: REAL === undefined,
  fn() {
    const r = providerReport();
    assert.equal(r.packageDir, REAL);
    assert.match(r.version ?? "", /^1\.\d+\.\d+/);
    assert.equal(r.platform, `${process.platform}/${process.arch}`);
    const by = Object.fromEntries(r.providers.map((p) => [p.name, p]));
    assert.equal(by.cpu.state, "built-in");
    if (r.platform === "linux/x64") {
      assert.equal(by.webgpu.state, "built-in", by.webgpu.detail);
      assert.deepEqual(cudaManifests(readInstallMetadata(REAL!), r.platform), ["cuda12"]);
      assert.deepEqual(
        by.cuda.files.map((f) => f.path),
        CUDA12_PROVIDER_FILES.map((f) => join(r.binDir!, f)),
      );
      const installed = CUDA12_PROVIDER_FILES.every((f) => existsSync(join(r.binDir!, f)));
      assert.equal(by.cuda.state, installed ? "present" : "absent");
      if (!installed) assert.ok(by.cuda.missing.some((m) => m.includes("setup:gpu")), by.cuda.detail);
      // Without --allow-all Deno refuses /proc: the driver is then "unknown", never reported as absent.
      if (r.machine.nvidiaDriverSource === "unknown") {
        assert.equal(r.machine.nvidiaDriver, null);
        assert.ok(!by.cuda.missing.some((m) => m.includes("NVIDIA driver")));
        assert.match(by.cuda.detail, /not checked/);
      } else if (r.machine.nvidiaDriverSource === "none") {
        assert.ok(by.cuda.missing.some((m) => m.includes("NVIDIA driver")));
      }
    }
    const text = formatProviderReport(r);
    for (const name of ["cpu", "webgpu", "cuda", "NVIDIA driver"]) assert.ok(text.includes(name), text);
  },
});

/** A fake onnxruntime-node: metadata as 1.30's, an install script whose behaviour `mode.txt` chooses. */
function fakePackage(mode: "ok" | "offline" | "partial"): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-ort-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "onnxruntime-node", version: "1.30.0", type: "commonjs" }),
  );
  mkdirSync(join(dir, "script"));
  const manifest = Object.fromEntries(
    CUDA12_PROVIDER_FILES.map((
      f,
    ) => [`./${f}`, { package: "nuget:linux/x64:cuda12", path: `runtimes/linux-x64/native/${f}` }]),
  );
  writeFileSync(
    join(dir, "script", "install-metadata.js"),
    `module.exports = ${
      JSON.stringify({
        requirements: { "linux/x64": ["cuda12"], "darwin/arm64": [] },
        manifests: { "linux/x64:cuda12": manifest },
      })
    };\n`,
  );
  writeFileSync(join(dir, "mode.txt"), mode);
  writeFileSync(
    join(dir, "script", "install.js"),
    `const fs = require("fs"), path = require("path");
const mode = fs.readFileSync(path.join(__dirname, "..", "mode.txt"), "utf8");
fs.writeFileSync(path.join(__dirname, "..", "env.json"), JSON.stringify({
  install: process.env.ONNXRUNTIME_NODE_INSTALL ?? null, cuda: process.env.ONNXRUNTIME_NODE_INSTALL_CUDA ?? null }));
if (mode === "offline") { console.error("Error: getaddrinfo ENOTFOUND feed.invalid"); process.exit(1); }
const bin = path.join(__dirname, "..", "bin", "napi-v6", "linux", "x64");
fs.mkdirSync(bin, { recursive: true });
const files = ${JSON.stringify(CUDA12_PROVIDER_FILES)};
for (const f of mode === "partial" ? files.slice(1) : files) fs.writeFileSync(path.join(bin, f), "not an ELF file");
console.log("Extracting runtimes/linux-x64/native/... (fake)");
`,
  );
  const bin = ortBinDir(dir, "linux", "x64");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "onnxruntime_binding.node"), "binding");
  writeFileSync(join(bin, "libonnxruntime.so.1"), "…WebGpuExecutionProvider…");
  return dir;
}

/** A fake system root: optionally an NVIDIA driver and Vulkan driver manifests. */
function fakeSystem(opts: { nvidia?: boolean; icds?: string[]; vulkanLoader?: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), "fake-sys-"));
  if (opts.nvidia) {
    mkdirSync(join(root, "proc", "driver", "nvidia"), { recursive: true });
    writeFileSync(
      join(root, "proc", "driver", "nvidia", "version"),
      "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.00\nGCC\n",
    );
  }
  if (opts.icds) {
    mkdirSync(join(root, "usr", "share", "vulkan", "icd.d"), { recursive: true });
    for (const f of opts.icds) writeFileSync(join(root, "usr", "share", "vulkan", "icd.d", f), "{}");
  }
  if (opts.vulkanLoader) {
    mkdirSync(join(root, "usr", "lib", "x86_64-linux-gnu"), { recursive: true });
    writeFileSync(join(root, "usr", "lib", "x86_64-linux-gnu", "libvulkan.so.1"), "");
  }
  return root;
}

const LINUX = { platform: "linux", arch: "x64" } as const;

Deno.test("gpu provider report: what WebGPU and CUDA still need, from files", () => {
  const pkg = fakePackage("ok");
  const bare = fakeSystem({});
  const soft = fakeSystem({ icds: ["lvp_icd.x86_64.json"], vulkanLoader: true });
  const gpu = fakeSystem({
    nvidia: true,
    icds: ["lvp_icd.x86_64.json", "nvidia_icd.json"],
    vulkanLoader: true,
  });
  try {
    const r0 = providerReport({ packageDir: pkg, systemRoot: bare, ...LINUX });
    const webgpu0 = r0.providers.find((p) => p.name === "webgpu")!;
    assert.equal(webgpu0.state, "built-in");
    assert.equal(webgpu0.missing.length, 2, webgpu0.detail);
    const cuda0 = r0.providers.find((p) => p.name === "cuda")!;
    assert.equal(cuda0.state, "absent");
    assert.equal(cuda0.missing.length, 2);

    const r1 = providerReport({ packageDir: pkg, systemRoot: soft, ...LINUX });
    const webgpu1 = r1.providers.find((p) => p.name === "webgpu")!;
    assert.deepEqual(webgpu1.missing.length, 1);
    assert.match(webgpu1.missing[0], /llvmpipe/);

    const r2 = providerReport({ packageDir: pkg, systemRoot: gpu, ...LINUX });
    assert.match(r2.machine.nvidiaDriver!, /^NVRM version/);
    assert.deepEqual(r2.providers.find((p) => p.name === "webgpu")!.missing, []);
    assert.deepEqual(r2.providers.find((p) => p.name === "cuda")!.missing, [
      "provider files (run `deno task setup:gpu`)",
    ]);
    assert.match(formatProviderReport(r2), /nvidia_icd\.json/);

    // Another platform: no CUDA provider offered.
    const mac = providerReport({ packageDir: pkg, systemRoot: bare, platform: "darwin", arch: "arm64" });
    assert.equal(mac.providers.find((p) => p.name === "cuda")!.state, "not-offered");
    // Not installed at all.
    const none = providerReport({ packageDir: join(bare, "nowhere"), systemRoot: bare, ...LINUX });
    assert.equal(none.packageDir, null);
    assert.ok(none.providers.every((p) => p.state === "absent"));
  } finally {
    for (const d of [pkg, bare, soft, gpu]) rmSync(d, { recursive: true });
  }
});

Deno.test("setup:gpu install: refuses without a GPU driver, for other platforms and CUDA versions", async () => {
  const pkg = fakePackage("ok");
  const bare = fakeSystem({});
  const gpu = fakeSystem({ nvidia: true });
  try {
    await assert.rejects(
      installCudaProvider({ packageDir: pkg, systemRoot: bare, ...LINUX }),
      (e: Error) =>
        e instanceof GpuSetupError && /no NVIDIA GPU driver/.test(e.message) &&
        /--skip-gpu-check/.test(e.message),
    );
    await assert.rejects(
      installCudaProvider({ packageDir: pkg, systemRoot: gpu, platform: "darwin", arch: "arm64" }),
      /only for Linux x64/,
    );
    await assert.rejects(
      installCudaProvider({ packageDir: pkg, systemRoot: gpu, cuda: "13", ...LINUX }),
      /offers the CUDA provider for cuda12 only, not cuda13/,
    );
    await assert.rejects(
      installCudaProvider({ packageDir: join(bare, "nowhere"), systemRoot: gpu, ...LINUX }),
      /not installed in this project/,
    );
    assert.ok(!existsSync(join(pkg, "env.json")), "no script ran");
  } finally {
    for (const d of [pkg, bare, gpu]) rmSync(d, { recursive: true });
  }
});

Deno.test("setup:gpu install: runs the package's script with CUDA 12 chosen, then checks every file", async () => {
  const gpu = fakeSystem({ nvidia: true });
  const ok = fakePackage("ok");
  const offline = fakePackage("offline");
  const partial = fakePackage("partial");
  const saved = Deno.env.get("ONNXRUNTIME_NODE_INSTALL");
  Deno.env.set("ONNXRUNTIME_NODE_INSTALL", "skip"); // an inherited skip must not silence the script
  try {
    const lines: string[] = [];
    const r = await installCudaProvider({
      packageDir: ok,
      systemRoot: gpu,
      ...LINUX,
      log: (l) => lines.push(l),
    });
    assert.equal(r.action, "installed");
    assert.deepEqual(JSON.parse(readFileSync(join(ok, "env.json"), "utf8")), { install: null, cuda: "v12" });
    assert.equal(r.report.providers.find((p) => p.name === "cuda")!.state, "present");
    assert.ok(lines.some((l) => l.includes("(fake)")), lines.join("\n"));
    // ldd on a non-ELF file finds nothing missing (or ldd is absent: null).
    assert.ok(r.unresolved === null || Array.isArray(r.unresolved));
    // Present: nothing is run again unless forced.
    rmSync(join(ok, "env.json"));
    assert.equal(
      (await installCudaProvider({ packageDir: ok, systemRoot: gpu, ...LINUX })).action,
      "already-present",
    );
    assert.ok(!existsSync(join(ok, "env.json")));
    assert.equal(
      (await installCudaProvider({ packageDir: ok, systemRoot: gpu, force: true, ...LINUX })).action,
      "installed",
    );

    await assert.rejects(
      installCudaProvider({ packageDir: offline, systemRoot: gpu, ...LINUX }),
      (e: Error) =>
        e instanceof GpuSetupError && /cannot reach the NuGet feed/.test(e.message) &&
        /Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux/.test(e.message) && /--from <file\.nupkg>/.test(e.message),
    );
    await assert.rejects(
      installCudaProvider({ packageDir: partial, systemRoot: gpu, ...LINUX }),
      /libonnxruntime_providers_cuda\.so is still missing/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("ONNXRUNTIME_NODE_INSTALL");
    else Deno.env.set("ONNXRUNTIME_NODE_INSTALL", saved);
    for (const d of [gpu, ok, offline, partial]) rmSync(d, { recursive: true });
  }
});

Deno.test({
  name: "setup:gpu install --from: a folder or a .nupkg of the NuGet package",
  ignore: REAL === undefined,
  async fn() {
    const gpu = fakeSystem({ nvidia: true });
    const pkg = fakePackage("offline");
    const src = mkdtempSync(join(tmpdir(), "nupkg-"));
    try {
      const native = join(src, "unpacked", "runtimes", "linux-x64", "native");
      mkdirSync(native, { recursive: true });
      for (const f of CUDA12_PROVIDER_FILES) writeFileSync(join(native, f), `folder ${f}`);
      const r = await installCudaProvider({
        packageDir: pkg,
        systemRoot: gpu,
        from: join(src, "unpacked"),
        ...LINUX,
      });
      assert.equal(r.action, "copied");
      const bin = ortBinDir(pkg, "linux", "x64");
      assert.equal(
        readFileSync(join(bin, CUDA12_PROVIDER_FILES[0]), "utf8"),
        `folder ${CUDA12_PROVIDER_FILES[0]}`,
      );

      // A .nupkg is a zip; adm-zip (onnxruntime-node's own dependency) writes one here. The fake package gets
      // a node_modules/adm-zip link to the real package's, as its install would.
      const realRequire = createRequire(join(REAL!, "package.json"));
      const admDir = dirname(realRequire.resolve("adm-zip"));
      mkdirSync(join(pkg, "node_modules"));
      symlinkSync(admDir, join(pkg, "node_modules", "adm-zip"));
      const AdmZip = realRequire("adm-zip");
      const zip = new AdmZip();
      for (const f of CUDA12_PROVIDER_FILES) {
        zip.addFile(`runtimes/linux-x64/native/${f}`, Buffer.from(`zip ${f}`));
      }
      const nupkg = join(src, "microsoft.ml.onnxruntime.gpu.linux.1.30.0.nupkg");
      zip.writeZip(nupkg);
      const r2 = await installCudaProvider({ packageDir: pkg, systemRoot: gpu, from: nupkg, ...LINUX });
      assert.equal(r2.action, "copied");
      assert.equal(
        readFileSync(join(bin, CUDA12_PROVIDER_FILES[1]), "utf8"),
        `zip ${CUDA12_PROVIDER_FILES[1]}`,
      );
      await assert.rejects(
        installCudaProvider({
          packageDir: pkg,
          systemRoot: gpu,
          from: join(native, CUDA12_PROVIDER_FILES[0]),
          ...LINUX,
        }),
        /not a readable \.nupkg/,
      );

      await assert.rejects(
        installCudaProvider({ packageDir: pkg, systemRoot: gpu, from: join(src, "nothing"), ...LINUX }),
        /no such file or folder/,
      );
    } finally {
      for (const d of [gpu, pkg, src]) rmSync(d, { recursive: true });
    }
  },
});

Deno.test("ldd output: the libraries not found", () => {
  const out = `\tlinux-vdso.so.1 (0x00007ffd)
\tlibcublasLt.so.12 => not found
\tlibcudart.so.12 => not found
\tlibcudnn.so.9 => not found
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f)
\tlibcudart.so.12 => not found
`;
  assert.deepEqual(parseLddNotFound(out), ["libcublasLt.so.12", "libcudart.so.12", "libcudnn.so.9"]);
  assert.deepEqual(parseLddNotFound("\tnot a dynamic executable\n"), []);
});

Deno.test("machine facts: NVIDIA driver line and Vulkan files under a system root", () => {
  const root = fakeSystem({ nvidia: true, icds: ["nvidia_icd.json"], vulkanLoader: true });
  try {
    const f = gpuMachineFacts(root, "linux");
    assert.match(f.nvidiaDriver!, /Kernel Module\s+580\.00/);
    assert.equal(f.vulkanLoader, join(root, "usr", "lib", "x86_64-linux-gnu", "libvulkan.so.1"));
    assert.deepEqual(f.vulkanIcds, [join(root, "usr", "share", "vulkan", "icd.d", "nvidia_icd.json")]);
    assert.deepEqual(gpuMachineFacts(root, "darwin").vulkanIcds, []);
  } finally {
    rmSync(root, { recursive: true });
  }
});

Deno.test({
  name: "smoke test plumbing: the tiny model on the CPU against itself; CUDA absent here is a clear error",
  ignore: REAL === undefined,
  sanitizeResources: false,
  async fn() {
    const cpu = await smokeTest("cpu");
    assert.equal(cpu.maxAbsDiff, 0);
    assert.equal(cpu.vocab, 50304);
    const r = providerReport();
    if (r.providers.find((p) => p.name === "cuda")!.state !== "present") {
      await assert.rejects(smokeTest("cuda"), /device "cuda" is not available/);
    }
  },
});
