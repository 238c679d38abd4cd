/**
 * numpy's legacy `RandomState` (MT19937), enough of it to reproduce `np.random.seed(s)` followed by
 * `np.random.choice(list, size=q, replace=True)`, which is what the paper's order-q diversity draws.
 * @module
 */

const N = 624;
const M = 397;

/** A Mersenne Twister seeded like `np.random.RandomState(seed)` (`init_genrand`). */
export class RandomState {
  #mt = new Uint32Array(N);
  #index = N;

  /** `seed` must be an integer in [0, 2^32 − 1], as numpy requires. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    }
    const mt = this.#mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32, without losing bits to float rounding.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.#index = N;
  }

  #twist(): void {
    const mt = this.#mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      let v = mt[(i + M) % N] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.#index = 0;
  }

  /** The next raw 32-bit output (numpy's `next_uint32`). */
  nextUint32(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#mt[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `randint(0, high)`: numpy's masked rejection sampling on 32-bit draws (for high ≤ 2^32). */
  randint(high: number): number {
    if (!Number.isInteger(high) || high < 1 || high > 0x100000000) {
      throw new RangeError(`randint needs an integer high in [1, 2**32], got ${high}`);
    }
    const range = high - 1;
    if (range === 0) return 0;
    let mask = range;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= range) return v;
    }
  }

  /** Indices drawn by `np.random.choice(a, size, replace=True)` with `len(a) = populationSize`. */
  choiceIndices(populationSize: number, size: number): number[] {
    const out = new Array<number>(size);
    for (let i = 0; i < size; i++) out[i] = this.randint(populationSize);
    return out;
  }
}
