/**
 * Checks that figure colours stay apart for colour-blind readers and in grey-scale print: colour-vision-deficiency
 * simulation with the matrices of Machado, Oliveira & Fernandes (2009, severity 1.0: protanopia, deuteranopia,
 * tritanopia) applied in linear sRGB, grey-scale as CIE L* of the relative luminance (what a grey-scale
 * printer or a desaturating viewer keeps), and colour differences as CIEDE2000 ΔE₀₀ in CIELAB (D65).
 * @module
 */

/** A simulated vision: normal, the three dichromacies, or grey-scale (luminance only). */
export type Vision = "normal" | "protanopia" | "deuteranopia" | "tritanopia" | "greyscale";

/** Every simulated vision. */
const VISIONS: readonly Vision[] = ["normal", "protanopia", "deuteranopia", "tritanopia", "greyscale"];

type Mat3 = readonly [
  readonly [number, number, number],
  readonly [number, number, number],
  readonly [number, number, number],
];

/** Machado et al. (2009), Table 1, severity 1.0; rows map linear RGB to simulated linear RGB. */
export const MACHADO_2009: Readonly<Record<"protanopia" | "deuteranopia" | "tritanopia", Mat3>> = {
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  tritanopia: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039],
  ],
};

/** `#rgb` / `#rrggbb` → sRGB components in [0, 1]. */
function parseHexColour(hex: string): [number, number, number] {
  let h = hex.trim().replace(/^#/, "");
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  if (!/^[0-9a-f]{6}$/i.test(h)) throw new Error(`not a hex colour: ${JSON.stringify(hex)}`);
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255) as [number, number, number];
}

const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Linear sRGB of a hex colour. */
function linearRgb(hex: string): [number, number, number] {
  return parseHexColour(hex).map(toLinear) as [number, number, number];
}

/** Relative luminance Y (Rec. 709 / sRGB primaries) of a hex colour. */
function relativeLuminance(hex: string): number {
  const [r, g, b] = linearRgb(hex);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);

/** CIELAB (D65) of linear sRGB. */
function labOfLinear([r, g, b]: readonly number[]): [number, number, number] {
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const fx = f(x), fy = f(y), fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIE L* (0 black … 100 white) of a hex colour: its grey in a grey-scale print. */
export function greyLightness(hex: string): number {
  return 116 * f(relativeLuminance(hex)) - 16;
}

/** The colour as seen with `vision`, in linear sRGB (clamped to the gamut). */
export function simulateVision(hex: string, vision: Vision): [number, number, number] {
  const rgb = linearRgb(hex);
  if (vision === "normal") return rgb;
  if (vision === "greyscale") {
    const y = relativeLuminance(hex);
    return [y, y, y];
  }
  const m = MACHADO_2009[vision];
  return m.map((row) => clamp01(row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2])) as [
    number,
    number,
    number,
  ];
}

/** CIEDE2000 colour difference of two CIELAB colours. */
export function deltaE2000(a: readonly number[], b: readonly number[]): number {
  const [L1, a1, b1] = a, [L2, a2, b2] = b;
  const rad = Math.PI / 180;
  const C1 = Math.hypot(a1, b1), C2 = Math.hypot(a2, b2);
  const Cm = (C1 + C2) / 2;
  const G = 0.5 * (1 - Math.sqrt(Cm ** 7 / (Cm ** 7 + 25 ** 7)));
  const a1p = (1 + G) * a1, a2p = (1 + G) * a2;
  const C1p = Math.hypot(a1p, b1), C2p = Math.hypot(a2p, b2);
  const hue = (x: number, y: number) => {
    if (x === 0 && y === 0) return 0;
    const h = Math.atan2(y, x) / rad;
    return h < 0 ? h + 360 : h;
  };
  const h1p = hue(a1p, b1), h2p = hue(a2p, b2);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp / 2) * rad);
  const Lmp = (L1 + L2) / 2;
  const Cmp = (C1p + C2p) / 2;
  let hmp = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) <= 180) hmp = (h1p + h2p) / 2;
    else hmp = h1p + h2p < 360 ? (h1p + h2p + 360) / 2 : (h1p + h2p - 360) / 2;
  }
  const T = 1 - 0.17 * Math.cos((hmp - 30) * rad) + 0.24 * Math.cos(2 * hmp * rad) +
    0.32 * Math.cos((3 * hmp + 6) * rad) - 0.2 * Math.cos((4 * hmp - 63) * rad);
  const dTheta = 30 * Math.exp(-(((hmp - 275) / 25) ** 2));
  const Rc = 2 * Math.sqrt(Cmp ** 7 / (Cmp ** 7 + 25 ** 7));
  const Sl = 1 + (0.015 * (Lmp - 50) ** 2) / Math.sqrt(20 + (Lmp - 50) ** 2);
  const Sc = 1 + 0.045 * Cmp;
  const Sh = 1 + 0.015 * Cmp * T;
  const Rt = -Math.sin(2 * dTheta * rad) * Rc;
  return Math.sqrt(
    (dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh),
  );
}

/** ΔE₀₀ between two hex colours as seen with `vision`. */
function visionDifference(a: string, b: string, vision: Vision): number {
  return deltaE2000(labOfLinear(simulateVision(a, vision)), labOfLinear(simulateVision(b, vision)));
}

/** One pair's worst case over the visions checked. */
export interface PairDifference {
  a: string;
  b: string;
  /** ΔE₀₀ per vision. */
  deltaE: Record<Vision, number>;
  /** The smallest ΔE₀₀ over the dichromacies and normal vision. */
  minColourDeltaE: number;
  /** |ΔL*| of the two greys. */
  greyDeltaL: number;
}

/** Pairwise differences of named colours under every vision. */
export function pairDifferences(colours: Readonly<Record<string, string>>): PairDifference[] {
  const names = Object.keys(colours);
  const out: PairDifference[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [ca, cb] = [colours[names[i]], colours[names[j]]];
      const deltaE = Object.fromEntries(VISIONS.map((v) => [v, visionDifference(ca, cb, v)])) as Record<
        Vision,
        number
      >;
      out.push({
        a: names[i],
        b: names[j],
        deltaE,
        minColourDeltaE: Math.min(
          deltaE.normal,
          deltaE.protanopia,
          deltaE.deuteranopia,
          deltaE.tritanopia,
        ),
        greyDeltaL: Math.abs(greyLightness(ca) - greyLightness(cb)),
      });
    }
  }
  return out;
}
