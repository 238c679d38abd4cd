#!/usr/bin/env bash
# GPU check: does this machine's GPU give the CPU's answers, and how fast?
#
# Scores the tiny test model (tests/fixtures/tiny-gptneox/base on tests/fixtures/tiny-corpus/corpus.jsonl) and a
# benchmark-size model (data/models/bench/pythia-70m-random, made by tools/make_bench_models.py when Python with
# torch, transformers and onnx is there) with `deno task analyse score` on each GPU device (cuda, and webgpu where
# the machine has a Vulkan GPU driver) and on the CPU; decodes greedily and samples with
# `deno task analyse generate` on each; then checks that the GPU's statistics equal the CPU's within a relative
# tolerance and that greedy token ids are identical, and prints tokens/s of every run. With Python whose torch
# sees a GPU, it also times PyTorch on the same scoring windows and the same sampling work on CUDA.
#
# usage: bash bench/gpu_check.sh [--cpu-only] [--devices cuda,webgpu] [--python PY] [--no-bench-model]
#                                [--docs N] [--rtol 2e-3] [--no-install] [--out DIR]
#   --cpu-only        no GPU: every "GPU" run is a second CPU run (label cpu-rerun), with less work (2 documents,
#                     5 samples × 20 tokens); proves the plumbing
#   --devices LIST    GPU devices to try (default: cuda if its provider is installed or installable, webgpu if
#                     the Vulkan driver it needs is there)
#   --python PY       Python for the PyTorch comparison (default: python3 when torch imports); "none" = skip
#   --no-bench-model  only the tiny test model
#   --docs N          documents of the benchmark corpus (Moby-Dick chapters from `deno task setup`, else the tiny
#                     corpus) to score (default 8; 2 with --cpu-only)
#   --rtol X          relative tolerance of the statistics (default 2e-3: CUDA may use TF32 matrix products)
#   --no-install      do not run `deno task setup:gpu` when the CUDA provider is missing
#   --out DIR         outputs and logs (default results/gpu_check)
# Deno: DENO=/path/to/deno (a carried binary works; Node is not needed), else `deno` on PATH. The npm packages
# must be installed (`deno task setup`, or `$DENO install` on a machine that reaches the npm registry).
# Exit status: 0 all checks passed; 1 a check failed; 2 usage or set-up error; 3 no GPU device could run.
#
# The whole script is one { … } block, so bash reads all of it before running (editing it mid-run is safe).
{
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CPU_ONLY=0
DEVICES=""
PYTHON=""
BENCH_MODEL=1
DOCS=""
RTOL="2e-3"
INSTALL=1
OUT="results/gpu_check"
PROMPT="Human: Tell me a story about a lighthouse keeper. Assistant:"

die() {
  printf 'gpu_check: %s\n' "$*" >&2
  exit 2
}
log() { printf 'gpu_check: %s\n' "$*" >&2; }
usage() { sed -n "2,/^# Exit status/p" "$0" | sed "s/^# \{0,1\}//"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-only) CPU_ONLY=1 ;;
    --devices) DEVICES="${2:?--devices needs a list}"; shift ;;
    --python) PYTHON="${2:?--python needs a path}"; shift ;;
    --no-bench-model) BENCH_MODEL=0 ;;
    --docs) DOCS="${2:?--docs needs a number}"; shift ;;
    --rtol) RTOL="${2:?--rtol needs a number}"; shift ;;
    --no-install) INSTALL=0 ;;
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done
# Sampling work per device: 25 samples × 70 new tokens (the paper's cell); smaller in the CPU-only dry run.
GEN_SAMPLES=25
GEN_TOKENS=70
if [ "$CPU_ONLY" = 1 ]; then
  GEN_SAMPLES=5
  GEN_TOKENS=20
fi
if [ -z "$DOCS" ]; then
  if [ "$CPU_ONLY" = 1 ]; then DOCS=2; else DOCS=8; fi
fi

DENO="${DENO:-$(command -v deno || true)}"
if [ -z "$DENO" ] || [ ! -x "$DENO" ]; then
  die "no Deno: put deno 2.9 on PATH or set DENO=/path/to/deno (no Node needed)"
fi
log "deno: $DENO ($("$DENO" --version | head -1))"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SUMMARY="$OUT/summary.tsv"
printf 'model\tdevice\twhat\tresult\n' >"$SUMMARY"
FAILED=0

# ---------------------------------------------------------------------------------------------------------------
# Helper (TypeScript, run by the same Deno): JSON reading, comparisons, the scoring windows for PyTorch.
cat >"$WORK/helper.ts" <<'TS'
const root = Deno.env.get("GPU_CHECK_ROOT")!;
const [cmd, ...args] = Deno.args;
const read = (p: string) => JSON.parse(Deno.readTextFileSync(p));
const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
switch (cmd) {
  case "providers": { // setup_gpu.ts report --json → "cuda=<state> webgpu=<state>:<missing count>"
    const r = read(args[0]);
    const p = Object.fromEntries(r.providers.map((x: { name: string }) => [x.name, x]));
    console.log(`cuda=${p.cuda.state} webgpu=${p.webgpu.state}:${p.webgpu.missing.length}`);
    break;
  }
  case "score-rate": { // tokens, elapsed seconds, tokens/s of a score/1 file
    const s = read(args[0]);
    const sec = num(s.provenance?.elapsed_seconds) ?? NaN;
    console.log(`${s.tokens} ${sec.toFixed(2)} ${(s.tokens / sec).toFixed(1)}`);
    break;
  }
  case "compare-score": { // a b rtol: every top-level statistic; counts exactly
    const [a, b] = [read(args[0]), read(args[1])];
    const rtol = Number(args[2]);
    const exact = new Set(["documents", "tokens", "bytes"]);
    let worst = 0, worstKey = "", bad: string[] = [];
    for (const [k, v] of Object.entries(a)) {
      const x = num(v), y = num(b[k]);
      if (x === undefined) continue;
      if (y === undefined) { bad.push(`${k} missing`); continue; }
      if (exact.has(k)) { if (x !== y) bad.push(`${k} ${x} vs ${y}`); continue; }
      const d = relDiff(x, y);
      if (d > worst) { worst = d; worstKey = k; }
      if (d > rtol) bad.push(`${k} ${x} vs ${y} (rel ${d.toExponential(2)})`);
    }
    console.log(bad.length === 0
      ? `ok: max relative difference ${worst.toExponential(2)}${worstKey ? ` (${worstKey})` : ""}`
      : `DIFFERENT: ${bad.join("; ")}`);
    if (bad.length > 0) Deno.exit(1);
    break;
  }
  case "compare-greedy": { // a b: token ids of the first sample equal; log-probs over the common prefix
    const ids = (f: string) => {
      const d = read(f);
      const s = d.cells[0].samples[0];
      return { ids: s.token_ids as number[], lp: (s.logprobs ?? []) as number[] };
    };
    const [a, b] = [ids(args[0]), ids(args[1])];
    let i = 0;
    while (i < a.ids.length && i < b.ids.length && a.ids[i] === b.ids[i]) i++;
    let lp = 0;
    for (let j = 0; j < Math.min(i, a.lp.length, b.lp.length); j++) lp = Math.max(lp, Math.abs(a.lp[j] - b.lp[j]));
    if (i === a.ids.length && i === b.ids.length) {
      console.log(`ok: ${i} greedy tokens identical, log-probs within ${lp.toExponential(2)}`);
    } else {
      console.log(`DIFFERENT: greedy ids agree for ${i} of ${a.ids.length}/${b.ids.length} tokens (log-probs ` +
        `within ${lp.toExponential(2)} before that; a near-tie flipped by TF32 or summation order looks like this)`);
      Deno.exit(1);
    }
    break;
  }
  case "gen-tokens": { // generated tokens in a completions file
    const d = read(args[0]);
    let n = 0;
    for (const c of d.cells) for (const s of c.samples) n += (s.token_ids ?? []).length;
    console.log(n);
    break;
  }
  case "windows": { // model-dir corpus score.json out.json: the windows the score run read, for PyTorch
    const { loadTokenizer } = await import(`${root}/lib/models/tokenizer.ts`);
    const { rollingWindows } = await import(`${root}/lib/scoring/windows.ts`);
    const { readCorpus } = await import(`${root}/lib/data/corpus_reader.ts`);
    const [model, corpus, scoreFile, out] = args;
    const s = read(scoreFile);
    const tok = await loadTokenizer(model);
    const windows: { input: number[]; predict: number[] }[] = [];
    const opts = { prefixToken: s.settings.prefix_token, maxSeqLen: s.settings.max_seq_len, contextLen: s.settings.context_len };
    for await (const doc of readCorpus(corpus, { maxDocs: s.settings.max_docs ?? undefined })) {
      const ids = tok.encode(doc.text, { addSpecialTokens: false });
      for (const w of rollingWindows(ids, opts)) windows.push({ input: [...w.input], predict: [...w.predict] });
    }
    Deno.writeTextFileSync(out, JSON.stringify(windows));
    const total = windows.reduce((n, w) => n + w.predict.length, 0);
    console.log(`${windows.length} ${total}`);
    break;
  }
  case "prompt-ids": { // model-dir text: the ids generate conditions on for an ad-hoc prompt
    const { loadTokenizer } = await import(`${root}/lib/models/tokenizer.ts`);
    console.log((await loadTokenizer(args[0])).encode(args[1]).join(","));
    break;
  }
  case "sum-logprob": { // score.json: Σ log p over the scored tokens (from perplexity)
    const s = read(args[0]);
    console.log(-s.tokens * Math.log(s.perplexity));
    break;
  }
  default:
    throw new Error(`unknown helper command ${cmd}`);
}
TS
helper() { GPU_CHECK_ROOT="$ROOT" "$DENO" run -A --config "$ROOT/deno.json" "$WORK/helper.ts" "$@"; }

# ---------------------------------------------------------------------------------------------------------------
# 1. Packages and providers.
if [ ! -e node_modules/onnxruntime-node/package.json ]; then
  log "node_modules lacks onnxruntime-node: running \`$DENO install\` (needs the npm registry)"
  "$DENO" install >&2 || die "\`deno install\` failed: run \`deno task setup\` on a machine that reaches the npm registry"
fi
"$DENO" run -A cli/setup_gpu.ts report >&2
"$DENO" run -A cli/setup_gpu.ts report --json >"$WORK/providers.json"
read -r CUDA_STATE WEBGPU_STATE <<<"$(helper providers "$WORK/providers.json" | sed 's/cuda=//; s/webgpu=//')"

GPU_DEVICES=()
if [ "$CPU_ONLY" = 1 ]; then
  GPU_DEVICES=(cpu-rerun)
  log "--cpu-only: the GPU runs are a second CPU run (plumbing check, no GPU involved)"
elif [ -n "$DEVICES" ]; then
  IFS=, read -r -a GPU_DEVICES <<<"$DEVICES"
else
  if [ "$CUDA_STATE" != present ] && [ "$CUDA_STATE" != not-offered ] && [ "$INSTALL" = 1 ]; then
    log "CUDA provider $CUDA_STATE: running \`deno task setup:gpu\`"
    if "$DENO" task setup:gpu >&2; then CUDA_STATE=present; else log "setup:gpu failed (above); cuda is skipped"; fi
  fi
  [ "$CUDA_STATE" = present ] && GPU_DEVICES+=(cuda)
  # WebGPU is built in; it runs only where nothing it needs is missing (a Vulkan driver on Linux).
  [ "$WEBGPU_STATE" = "built-in:0" ] && GPU_DEVICES+=(webgpu)
fi
if [ "${#GPU_DEVICES[@]}" -eq 0 ]; then
  log "no GPU device to check (CUDA provider: $CUDA_STATE; WebGPU: $WEBGPU_STATE). Use --devices to force one,"
  log "or --cpu-only to check the script's plumbing."
  exit 3
fi
log "devices: cpu (reference) and ${GPU_DEVICES[*]}"

# ---------------------------------------------------------------------------------------------------------------
# 2. Models.
MODELS=("tiny|tests/fixtures/tiny-gptneox/base|tests/fixtures/tiny-corpus/corpus.jsonl|")
if [ "$BENCH_MODEL" = 1 ]; then
  BENCH="data/models/bench/pythia-70m-random"
  if [ ! -e "$BENCH/onnx/model.onnx" ]; then
    PY_BUILD="${PYTHON:-python3}"
    if [ "$PY_BUILD" != none ] && "$PY_BUILD" -c "import torch, transformers, onnx" 2>/dev/null &&
      [ -e data/tokenizers/pythia/tokenizer.json ]; then
      log "building $BENCH with $PY_BUILD tools/make_bench_models.py --sizes 70m"
      "$PY_BUILD" tools/make_bench_models.py --sizes 70m >&2 || log "building the benchmark model failed"
    else
      log "no $BENCH (needs Python with torch, transformers, onnx and \`deno task setup\`'s Pythia tokenizer)"
    fi
  fi
  if [ -e "$BENCH/onnx/model.onnx" ]; then
    CORPUS="data/corpus/moby-dick.jsonl"
    [ -e "$CORPUS" ] || CORPUS="tests/fixtures/tiny-corpus/corpus.jsonl"
    MODELS+=("pythia-70m-random|$BENCH|$CORPUS|$DOCS")
  else
    log "benchmark model skipped; only the tiny model is checked"
  fi
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. Runs. run_cli NAME DEVICE args...: one `deno task analyse` run, its log kept; returns its status.
device_flag() { [ "$1" = cpu-rerun ] && echo cpu || echo "$1"; }
run_cli() {
  local name="$1"
  shift
  local start end
  start=$(date +%s.%N)
  if "$DENO" task analyse "$@" >"$OUT/$name.log" 2>&1; then
    end=$(date +%s.%N)
    WALL=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    return 0
  fi
  log "$name failed; the end of $OUT/$name.log:"
  tail -n 15 "$OUT/$name.log" >&2
  return 1
}
json_field() { sed -n "s/.*\"$2\": \([-0-9.eE+]*\).*/\1/p" <<<"$1"; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$SUMMARY"; }

declare -A SCORE_OK=()
for entry in "${MODELS[@]}"; do
  IFS='|' read -r label model corpus docs <<<"$entry"
  for device in cpu "${GPU_DEVICES[@]}"; do
    # Scoring.
    out="$OUT/score_${label}_${device}.json"
    rm -f "$out" "${out%.json}".*
    if run_cli "score_${label}_${device}" score --model "$model" --data "$corpus" --out "$out" \
      --device "$(device_flag "$device")" ${docs:+--max-docs "$docs"} --checkpoint-every 1000; then
      SCORE_OK["$label/$device"]=1
      read -r tokens secs rate <<<"$(helper score-rate "$out")"
      record "$label" "$device" "score tokens/s" "$rate ($tokens tokens in $secs s incl. loading; wall $WALL s)"
    else
      record "$label" "$device" "score" "FAILED (see $OUT/score_${label}_${device}.log)"
      FAILED=1
    fi
    # Greedy decoding and sampling throughput (GEN_SAMPLES × GEN_TOKENS at temperature 1, top-k 50).
    g="$OUT/greedy_${label}_${device}.json"
    rm -f "${g%.json}"*
    if ! run_cli "greedy_${label}_${device}" generate --model "$model" --prompt "$PROMPT" --temperatures 0 \
      --samples 1 --max-new-tokens 40 --seed 0 --out "$g" --device "$(device_flag "$device")"; then
      record "$label" "$device" "greedy" "FAILED (see $OUT/greedy_${label}_${device}.log)"
      FAILED=1
    fi
    s="$OUT/sample_${label}_${device}.json"
    rm -f "${s%.json}"*
    if run_cli "sample_${label}_${device}" generate --model "$model" --prompt "$PROMPT" --temperatures 1 \
      --samples "$GEN_SAMPLES" --max-new-tokens "$GEN_TOKENS" --top-k 50 --seed 0 --out "$s" --device "$(device_flag "$device")"; then
      n=$(helper gen-tokens "$s")
      # The sweep's last progress line: tokens generated over the sweep's elapsed time (after loading).
      rate=$(grep -o '[0-9,]* tokens/s' "$OUT/sample_${label}_${device}.log" | tail -1 | tr -d , || true)
      record "$label" "$device" "generate tokens/s" "${rate:-?} while decoding ($n new tokens; wall $WALL s incl. loading)"
    else
      record "$label" "$device" "generate" "FAILED (see $OUT/sample_${label}_${device}.log)"
      FAILED=1
    fi
  done

  # Comparisons: each GPU device against the CPU.
  for device in "${GPU_DEVICES[@]}"; do
    a="$OUT/score_${label}_cpu.json" b="$OUT/score_${label}_${device}.json"
    if [ -n "${SCORE_OK[$label/cpu]:-}" ] && [ -n "${SCORE_OK[$label/$device]:-}" ]; then
      if r=$(helper compare-score "$a" "$b" "$RTOL"); then :; else FAILED=1; fi
      record "$label" "$device" "score vs cpu (rtol $RTOL)" "$r"
    fi
    a="$OUT/greedy_${label}_cpu.json" b="$OUT/greedy_${label}_${device}.json"
    if [ -e "$a" ] && [ -e "$b" ]; then
      if r=$(helper compare-greedy "$a" "$b"); then :; else FAILED=1; fi
      record "$label" "$device" "greedy ids vs cpu" "$r"
    fi
  done
done

# ---------------------------------------------------------------------------------------------------------------
# 4. PyTorch on the same windows and the same sampling work (only models with PyTorch weights: the bench model).
if [ -z "$PYTHON" ]; then
  if command -v python3 >/dev/null && python3 -c "import torch, transformers" 2>/dev/null; then
    PYTHON=python3
  else
    PYTHON=none
  fi
fi
TORCH_DEVICE=""
if [ "$PYTHON" != none ]; then
  TORCH_DEVICE=$("$PYTHON" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')" 2>/dev/null || true)
  # A CPU-only torch is used only to check the plumbing in --cpu-only mode.
  [ "$TORCH_DEVICE" = cpu ] && [ "$CPU_ONLY" = 0 ] && TORCH_DEVICE=""
fi
cat >"$WORK/torch_check.py" <<'PY'
"""PyTorch side: score windows (float32 forward, float64 log-softmax as tools/reference_score.py) or sample
(as bench/generate_reference.py), on the given device; prints one JSON line."""
import json, sys, time
import torch
from transformers import AutoModelForCausalLM

mode, model_dir, device = sys.argv[1], sys.argv[2], sys.argv[3]
model = AutoModelForCausalLM.from_pretrained(f"{model_dir}/pytorch", dtype=torch.float32).to(device).eval()
sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
if mode == "score":
    windows = json.load(open(sys.argv[4]))
    total, tokens = 0.0, 0
    def run():
        s, n = 0.0, 0
        with torch.inference_mode():
            for w in windows:
                ids = torch.tensor([w["input"]], dtype=torch.int64, device=device)
                k = len(w["predict"])
                lp = torch.log_softmax(model(input_ids=ids).logits[0, -k:].to(torch.float64), dim=-1)
                p = lp.exp()
                target = torch.tensor(w["predict"], dtype=torch.int64, device=device)
                s += lp[torch.arange(k, device=device), target].sum().item()
                _ = (-(p * lp).sum(-1), p.max(-1), p.sum(0))
                n += k
        sync()
        return s, n
    run()  # warm-up
    t0 = time.perf_counter()
    total, tokens = run()
    sec = time.perf_counter() - t0
    print(json.dumps({"tokens": tokens, "seconds": sec, "tokens_per_s": tokens / sec, "sum_logprob": total,
                      "torch": torch.__version__, "device": device}))
else:
    prompt = [int(x) for x in sys.argv[4].split(",")]
    rows, new = int(sys.argv[5]), int(sys.argv[6])
    ids = torch.tensor([prompt] * rows, dtype=torch.int64, device=device)
    def run(seed):
        torch.manual_seed(seed)
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0,
                                 top_k=50, top_p=1.0, max_new_tokens=new, min_new_tokens=new, use_cache=True,
                                 pad_token_id=model.config.eos_token_id)
        sync()
        assert out.shape == (rows, len(prompt) + new)
        return time.perf_counter() - t0
    run(-1)
    sec = sorted(run(i) for i in range(3))[1]
    print(json.dumps({"new_tokens": rows * new, "seconds_median": sec, "tokens_per_s": rows * new / sec,
                      "torch": torch.__version__, "device": device}))
PY
if [ -n "$TORCH_DEVICE" ]; then
  for entry in "${MODELS[@]}"; do
    IFS='|' read -r label model corpus docs <<<"$entry"
    if [ ! -d "$model/pytorch" ] || [ -z "${SCORE_OK[$label/cpu]:-}" ]; then continue; fi
    read -r nwin ntok <<<"$(helper windows "$model" "$corpus" "$OUT/score_${label}_cpu.json" "$WORK/windows.json")"
    log "PyTorch ($TORCH_DEVICE) on the same $nwin windows ($ntok tokens) of $label"
    if r=$("$PYTHON" "$WORK/torch_check.py" score "$model" "$TORCH_DEVICE" "$WORK/windows.json" 2>"$OUT/torch_score_$label.log"); then
      echo "$r" >"$OUT/torch_score_$label.json"
      ours=$(helper sum-logprob "$OUT/score_${label}_cpu.json")
      rate=$(json_field "$r" tokens_per_s)
      theirs=$(json_field "$r" sum_logprob)
      record "$label" "pytorch-$TORCH_DEVICE" "score tokens/s" \
        "$(printf '%.1f' "$rate") (forward only, warm); Σ log p $theirs vs toolkit cpu $ours"
    else
      record "$label" "pytorch-$TORCH_DEVICE" "score" "FAILED (see $OUT/torch_score_$label.log)"
    fi
    ids=$(helper prompt-ids "$model" "$PROMPT")
    if r=$("$PYTHON" "$WORK/torch_check.py" generate "$model" "$TORCH_DEVICE" "$ids" "$GEN_SAMPLES" "$GEN_TOKENS" 2>"$OUT/torch_generate_$label.log"); then
      echo "$r" >"$OUT/torch_generate_$label.json"
      rate=$(json_field "$r" tokens_per_s)
      record "$label" "pytorch-$TORCH_DEVICE" "generate tokens/s" "$(printf '%.1f' "$rate") ($GEN_SAMPLES × $GEN_TOKENS tokens, median of 3)"
    else
      record "$label" "pytorch-$TORCH_DEVICE" "generate" "FAILED (see $OUT/torch_generate_$label.log)"
    fi
  done
else
  log "PyTorch comparison skipped (no Python whose torch sees a GPU; --python PY to name one)"
fi

# ---------------------------------------------------------------------------------------------------------------
# 5. Summary.
printf '\n' >&2
awk -F'\t' '{ printf "%-18s %-14s %-26s %s\n", $1, $2, $3, $4 }' "$SUMMARY"
printf '\n(%s; outputs and logs in %s)\n' "$("$DENO" --version | head -1)" "$OUT"
if [ "$FAILED" = 1 ]; then
  log "some checks FAILED"
  exit 1
fi
log "all checks passed"
exit 0
}
