/**
 * The figure palette under simulated colour-vision deficiencies and in grey-scale: Machado et al. (2009)
 * protanopia / deuteranopia / tritanopia at severity 1.0 in linear sRGB, grey = CIE L* of the luminance,
 * differences as CIEDE2000 (checked against Sharma, Wu & Dalal's published test pairs).
 */
import assert from "node:assert/strict";
import {
  deltaE2000,
  greyLightness,
  MACHADO_2009,
  pairDifferences,
  simulateVision,
} from "../../lib/figures/colour_check.ts";
import { ROLE_STYLES } from "../../lib/figures/style.ts";

Deno.test("CIEDE2000 matches Sharma et al.'s test data; the CVD matrices keep white and grey", () => {
  // Pairs 1, 7, 17 and 25 of Sharma, Wu & Dalal (2005), Table 1.
  const pairs: [number[], number[], number][] = [
    [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
    [[50, 0, 0], [50, -1, 2], 2.3669],
    [[50, 2.5, 0], [73, 25, -18], 27.1492],
    [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
  ];
  for (const [a, b, want] of pairs) assert.ok(Math.abs(deltaE2000(a, b) - want) < 5e-5, `${a} ${b}`);
  for (const m of Object.values(MACHADO_2009)) {
    for (const row of m) assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-5);
  }
  for (const v of ["protanopia", "deuteranopia", "tritanopia"] as const) {
    const [r, g, b] = simulateVision("#808080", v);
    assert.ok(Math.abs(r - g) < 1e-5 && Math.abs(g - b) < 1e-5, v);
  }
  assert.equal(Math.round(greyLightness("#ffffff")), 100);
  assert.equal(greyLightness("#000000"), 0);
});

Deno.test("role colours stay apart for colour-blind readers and in grey-scale; markers tell the rest apart", () => {
  const colours = Object.fromEntries(Object.entries(ROLE_STYLES).map(([role, s]) => [role, s.colour]));
  const pairs = pairDifferences(colours);
  const report = pairs.map((p) =>
    `${p.a}/${p.b}: ΔE00 normal ${p.deltaE.normal.toFixed(1)}, protan ${p.deltaE.protanopia.toFixed(1)}, ` +
    `deutan ${p.deltaE.deuteranopia.toFixed(1)}, tritan ${p.deltaE.tritanopia.toFixed(1)}; grey ΔL* ${
      p.greyDeltaL.toFixed(1)
    }`
  );
  // Every pair of roles, with every dichromacy: at least 10 ΔE00 (measured minimum: DPO/PPO under tritanopia, 10.9).
  for (const [i, p] of pairs.entries()) assert.ok(p.minColourDeltaE >= 10, report[i]);
  const grey = (a: string, b: string) =>
    pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a))!;
  // Grey-scale: the base model is black, ≥ 28 L* from every other role (46 from SFT, 54 from collapsed) …
  for (const role of Object.keys(ROLE_STYLES).filter((r) => r !== "base")) {
    assert.ok(grey("base", role).greyDeltaL >= 28, `base/${role}: ${grey("base", role).greyDeltaL}`);
  }
  // … the paper's three (PLM, SFT, DPO) ≥ 20 L* apart …
  for (const [a, b] of [["base", "sft"], ["base", "dpo"], ["sft", "dpo"]]) {
    assert.ok(grey(a, b).greyDeltaL >= 20);
  }
  // … and where two greys are close, the markers differ (every role has its own).
  for (const p of pairs.filter((p) => p.greyDeltaL < 10)) {
    assert.notEqual(
      ROLE_STYLES[p.a as keyof typeof ROLE_STYLES].marker,
      ROLE_STYLES[p.b as keyof typeof ROLE_STYLES].marker,
      `${p.a}/${p.b}`,
    );
  }
});
