/**
 * Child process of tests/models/native_memory.test.ts: counts the minor page faults of each of six rounds of a
 * 64 MiB ArrayBuffer written and freed, with glibc's defaults or (argument `keep`) after `keepLargeBlocks`.
 * Prints `{ "faults": [n, …], "kept": bool }`. Needs `--v8-flags=--expose-gc`.
 */
import { nativeMemory } from "../../lib/models/native_memory.ts";

const BYTES = 64 * 2 ** 20;
/** Minor faults of this process so far (field 10 of /proc/self/stat). */
const minorFaults = () => Number(Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[7]);
// deno-lint-ignore no-explicit-any
const gc = (globalThis as any).gc as () => void;
const kept = Deno.args[0] === "keep" ? nativeMemory().keepLargeBlocks(4 * BYTES) : false;

async function round(): Promise<void> {
  let buffer: Uint8Array | null = new Uint8Array(BYTES);
  buffer.fill(1);
  buffer = null;
  gc();
  // V8 frees array buffers on a background thread after the collection (late on a busy machine: a round whose
  // buffer is allocated before the last one is freed faults afresh, which the test tolerates).
  await new Promise((resolve) => setTimeout(resolve, 50));
}

await round();
const faults: number[] = [];
for (let i = 0; i < 6; i++) {
  const before = minorFaults();
  await round();
  faults.push(minorFaults() - before);
}
console.log(JSON.stringify({ faults, kept }));
