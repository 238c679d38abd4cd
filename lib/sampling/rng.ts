/**
 * Seedable PRNG and per-sample seed derivation for token sampling.
 *
 * The generator is xoshiro128** 1.1 (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 2021; reference code at https://prng.di.unimi.it/xoshiro128starstar.c): 128 bits of
 * state, period 2^128 − 1, 32-bit operations only, so it stays fast in JavaScript without BigInt. Its state is
 * filled from the seed by SplitMix64, as the authors recommend.
 *
 * Seeds are derived with FNV-1a 64 (Fowler–Noll–Vo, offset basis 0xcbf29ce484222325, prime 0x100000001b3)
 * over the UTF-8 bytes of a canonical string, so a single (prompt, temperature, sample) can be regenerated
 * alone, synchronously.
 * @module
 */

/** Anything that yields uniform doubles in [0, 1); the sampler needs only this. */
export interface UniformSource {
  /** A uniform double in [0, 1). */
  nextFloat64(): number;
}

const MASK64 = (1n << 64n) - 1n;

/** One SplitMix64 step on a BigInt state; returns [next state, output]. Used only when seeding. */
function splitMix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

/** xoshiro128** seeded from a non-negative safe integer through SplitMix64. */
export class Xoshiro128StarStar implements UniformSource {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** `seed` must be an integer in [0, 2^53 − 1] (what `sampleSeed` returns). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be an integer in [0, 2**53 - 1], got ${seed}`);
    }
    let [state, a] = splitMix64(BigInt(seed));
    let b: bigint;
    [state, b] = splitMix64(state);
    this.#s0 = Number(a & 0xffffffffn);
    this.#s1 = Number(a >> 32n);
    this.#s2 = Number(b & 0xffffffffn);
    this.#s3 = Number(b >> 32n);
    // The all-zero state is the one fixed point; SplitMix64 practically never yields it, but guard anyway.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** The next 32-bit output, as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.#s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits: 27 bits of one output, 26 of the next. */
  nextFloat64(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992; // (hi·2^26 + lo) / 2^53
  }
}

/** What identifies one sample of a sweep; `promptText` is optional extra identity (e.g. ad-hoc prompts). */
export interface SampleSeedInput {
  /** The run's seed, a non-negative safe integer. */
  runSeed: number;
  /** Model id (or directory) as recorded in the results. */
  model: string;
  /** Index of the prompt in its set, in input order. */
  promptIndex: number;
  /** The prompt's text, when it should be part of the identity; omitted and `undefined` are the same. */
  promptText?: string;
  /** Sampling temperature (0 = greedy). */
  temperature: number;
  /** Index of the sample within its (prompt, temperature) cell. */
  sampleIndex: number;
}

/** The prefix of the canonical string; bump it if the derivation ever changes. */
const SAMPLE_SEED_TAG = "mode-collapse/sample-seed/1";

/**
 * The exact string hashed by `sampleSeed`:
 * `SAMPLE_SEED_TAG + "\n" + JSON.stringify([runSeed, model, promptIndex, promptText ?? null, temperature,
 * sampleIndex])` — JSON.stringify writes numbers in their shortest round-trip form (0.7 → "0.7"), so the
 * string is the same on every engine.
 */
function sampleSeedString(input: SampleSeedInput): string {
  const { runSeed, model, promptIndex, promptText, temperature, sampleIndex } = input;
  if (!Number.isSafeInteger(runSeed) || runSeed < 0) throw new RangeError(`bad runSeed ${runSeed}`);
  if (!Number.isSafeInteger(promptIndex) || promptIndex < 0) {
    throw new RangeError(`bad promptIndex ${promptIndex}`);
  }
  if (!Number.isSafeInteger(sampleIndex) || sampleIndex < 0) {
    throw new RangeError(`bad sampleIndex ${sampleIndex}`);
  }
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`bad temperature ${temperature}`);
  }
  if (typeof model !== "string") throw new TypeError("model must be a string");
  const parts = [runSeed, model, promptIndex, promptText ?? null, temperature, sampleIndex];
  return `${SAMPLE_SEED_TAG}\n${JSON.stringify(parts)}`;
}

const encoder = new TextEncoder();

/** FNV-1a 64 of `bytes` as [high 32 bits, low 32 bits], with 32-bit halves (no BigInt in the loop). */
function fnv1a64(bytes: Uint8Array): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]) >>> 0;
    // h · (2^40 + 0x1b3) mod 2^64: the 2^40 term moves lo's low 24 bits into hi, 0x1b3 multiplies both halves.
    const loProduct = lo * 0x1b3; // < 2^41, exact
    const carry = Math.floor(loProduct / 4294967296);
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = loProduct >>> 0;
  }
  return [hi, lo];
}

/**
 * The seed of one sample: the top 53 bits of FNV-1a 64 over the UTF-8 bytes of `sampleSeedString(input)`,
 * i.e. `hash >> 11`, a safe integer ready for `new Xoshiro128StarStar(seed)` and for JSON.
 */
export function sampleSeed(input: SampleSeedInput): number {
  const [hi, lo] = fnv1a64(encoder.encode(sampleSeedString(input)));
  return hi * 2097152 + (lo >>> 11); // hi·2^21 + lo / 2^11
}
