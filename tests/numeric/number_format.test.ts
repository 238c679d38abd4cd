// Numbers for people (lib/numeric/number_format.ts): each format's text, and the same missing/∞ rules in all.
import assert from "node:assert/strict";
import {
  formatFixed,
  formatNumber,
  formatPercent,
  formatScientific,
  formatSignificant,
} from "../../lib/numeric/number_format.ts";

Deno.test("formatNumber", () => {
  assert.equal(formatNumber(1234567), "1,234,567");
  assert.equal(formatNumber(0.123456), "0.1235");
  assert.equal(formatNumber(12.3456789, { significantDigits: 3 }), "12.3");
  assert.equal(formatNumber(0.00001234), "1.234e-5");
  assert.equal(formatNumber(NaN), "–");
  assert.equal(formatNumber(null, { missing: "n/a" }), "n/a");
  assert.equal(formatNumber("a<b"), "a<b");
  assert.equal(formatNumber(-Infinity), "−∞");
});

Deno.test("formatSignificant, formatFixed, formatPercent, formatScientific", () => {
  assert.equal(formatSignificant(3, 4), "3.000");
  assert.equal(formatSignificant(0.000123456, 5), "0.00012346");
  assert.equal(formatSignificant(null, 4), "n/a");
  assert.equal(formatSignificant(NaN, 5, "NaN"), "NaN");
  assert.equal(formatFixed(0.1, 4), "0.1000");
  assert.equal(formatFixed(NaN, 3), "–");
  assert.equal(formatFixed(undefined, 4, "n/a"), "n/a");
  assert.equal(formatFixed(Infinity, 2), "∞");
  assert.equal(formatPercent(0.625), "63%");
  assert.equal(formatPercent(1), "100%");
  assert.equal(formatPercent(null), "–");
  assert.equal(formatScientific(1.234e-7, 2), "1.23e-7");
  assert.equal(formatScientific(0, 2), "0.00e+0");
  assert.equal(formatScientific(NaN, 2), "NaN");
});
