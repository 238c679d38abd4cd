/**
 * Prompt packs and templates: the bundled files validate, match the transcribed protocol byte for byte, fill
 * templates once and literally, check factual answers, and reject malformed files with the JSON path.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import {
  answerMatches,
  applyTemplate,
  getTemplate,
  loadPromptPack,
  loadTemplates,
  PromptDataError,
  PROMPTS_DIR,
  resolvePromptPackPath,
  templateNameForModel,
  validatePromptPack,
  validateTemplates,
} from "../../lib/data/prompts.ts";
import { PAPER_PACKS } from "../../lib/data/packs.ts";
import { readSharedJson, sharedTest } from "../helpers/shared.ts";

const PAPER_TEMPLATES = ["plm", "hh", "llama2_chat", "tulu"];

Deno.test("bundled packs validate, hold 20 prompts each, with the paper's max_new_tokens", async () => {
  const expected = { creative: 70, factual: 25, seen: 70 };
  for (const name of PAPER_PACKS) {
    const pack = await loadPromptPack(name);
    assert.equal(pack.name, name);
    assert.equal(pack.prompts.length, 20);
    assert.equal(pack.max_new_tokens, expected[name]);
    assert.equal(pack.provenance?.commit, "7885c15c8acf2f8083cd0e8651a8f54a44dc8e82");
    assert.ok(pack.prompts.every((p) => typeof p.guide === "string" && p.guide.startsWith(" ")));
    assert.equal(pack.prompts.every((p) => p.answers !== undefined), name === "factual");
  }
});

Deno.test("a path loads the file; a bare name loads data/prompts/<name>.json", async () => {
  assert.equal(resolvePromptPackPath("seen"), join(PROMPTS_DIR, "seen.json"));
  const viaPath = await loadPromptPack(join(PROMPTS_DIR, "factual.json"));
  assert.equal(viaPath.name, "factual");
  await assert.rejects(loadPromptPack("no-such-pack"), /no-such-pack/);
});

Deno.test("spot strings are byte-exact", async () => {
  const creative = await loadPromptPack("creative");
  assert.equal(creative.prompts[1].id, "creative-01");
  assert.equal(
    creative.prompts[1].guide,
    " Of course, here is the funniest joke I know:\n\nKnock, knock. \n Who\u2019s there?",
  );
  assert.equal(creative.prompts[4].guide, " Of course, here is a story:\n\nOnce upon a time, ");
  const seen = await loadPromptPack("seen");
  assert.equal(seen.prompts[7].text, "Is it ok to give kids a time out once in a while?");
  assert.equal(seen.prompts[7].guide, " That is a complicated question. It ");
  const factual = await loadPromptPack("factual");
  assert.equal(factual.prompts[13].text, "Who invented the telephone?");
  assert.deepEqual(factual.prompts[13].answers, ["Alexander", "Graham Bell"]);
  assert.deepEqual(factual.prompts[19].answers, ["Leonardo", "Vinci"]);
});

Deno.test("bundled templates validate; paper-exact ones keep their quirks; fixed variants are marked", async () => {
  const t = await loadTemplates();
  for (const name of PAPER_TEMPLATES) assert.equal(getTemplate(t, name).paper_exact, true, name);
  assert.ok(t.templates.llama2_chat.text.startsWith("<s>[INST] <<SYS>>\n    You are"));
  assert.ok(!t.templates.llama2_chat_fixed.text.includes("<s>"));
  assert.equal(t.templates.llama2_chat_fixed.corrects, "llama2_chat");
  assert.equal(t.templates.plm_single_space.corrects, "plm");
  assert.equal(t.templates.tulu.text, "<|user|> \n    {prompt} \n    <|assistant|>{guide}");
  for (const [name, tpl] of Object.entries(t.templates)) {
    if (!tpl.paper_exact) assert.deepEqual(tpl.used_for, [], `${name} must not be a default`);
  }
  assert.equal(templateNameForModel(t, "pythia-2.8b-dpo"), "hh");
  assert.equal(templateNameForModel(t, "llama2-chat"), "llama2_chat");
  assert.equal(templateNameForModel(t, "pythia-2.8b"), "plm");
  assert.equal(templateNameForModel(t, "llama2-kto"), "tulu");
  assert.equal(templateNameForModel(t, "gpt-2"), undefined);
  assert.throws(() => getTemplate(t, "nope"), /available: plm/);
});

Deno.test("applyTemplate output for each template on one prompt", async () => {
  const t = (await loadTemplates()).templates;
  const factual = await loadPromptPack("factual");
  const { text, guide } = factual.prompts[0];
  const g = " Sure let me answer your question. The";
  assert.equal(guide, g);
  const cases: Record<string, string> = {
    plm: "What is the capital of France?  Sure let me answer your question. The",
    plm_single_space: "What is the capital of France? Sure let me answer your question. The",
    hh: "Human: What is the capital of France? Assistant: Sure let me answer your question. The",
    llama2_chat:
      "<s>[INST] <<SYS>>\n    You are a helpful, respectful and honest assistant. Always answer without " +
      "asking questions or clarifications.\n    <</SYS>>\n\n    What is the capital of France? [/INST]" + g,
    llama2_chat_fixed:
      "[INST] <<SYS>>\nYou are a helpful, respectful and honest assistant. Always answer without " +
      "asking questions or clarifications.\n<</SYS>>\n\nWhat is the capital of France? [/INST]" + g,
    tulu: "<|user|> \n    What is the capital of France? \n    <|assistant|>" + g,
    tulu_fixed: "<|user|>\nWhat is the capital of France?\n<|assistant|>\n" + g,
  };
  assert.deepEqual(Object.keys(t).sort(), Object.keys(cases).sort());
  for (const [name, want] of Object.entries(cases)) {
    assert.equal(applyTemplate(t[name], text, guide), want, name);
  }
  assert.equal(applyTemplate(t.hh, "Hi"), "Human: Hi Assistant:");
});

Deno.test("applyTemplate substitutes once and literally: braces and $ patterns survive", () => {
  const tpl = "Human: {prompt} Assistant:{guide}";
  assert.equal(
    applyTemplate(tpl, "Fill {guide} and {0} and {} in {prompt}", " $& {prompt}"),
    "Human: Fill {guide} and {0} and {} in {prompt} Assistant: $& {prompt}",
  );
  assert.equal(applyTemplate("{prompt}|{prompt}", "a{b}"), "a{b}|a{b}");
});

Deno.test("answerMatches: case-insensitive substring, any answer suffices", () => {
  const answers = ["Alexander", "Graham Bell"];
  assert.equal(answerMatches(" telephone was invented by alexander graham bell.", answers), true);
  assert.equal(answerMatches(" inventor was GRAHAM BELL", answers), true);
  assert.equal(answerMatches(" inventor was Graham", answers), false);
  assert.equal(answerMatches("Paris", []), false);
  assert.equal(answerMatches("anything", [""]), false);
});

sharedTest("packs and templates equal ../shared/paper/protocol.json string for string", async () => {
  type Item = { prompt: string; guide: string; answers?: string[] };
  const protocol = readSharedJson<{
    prompt_sets: Record<string, Item[]>;
    templates: Record<string, { template: string; used_for: string[] }>;
    sampling: { max_new_tokens: Record<string, number> };
  }>("paper", "protocol.json");
  assert.deepEqual(Object.keys(protocol.prompt_sets).sort(), [...PAPER_PACKS].sort());
  for (const name of PAPER_PACKS) {
    const pack = await loadPromptPack(name);
    const ref = protocol.prompt_sets[name];
    assert.equal(pack.prompts.length, ref.length, name);
    assert.equal(pack.max_new_tokens, protocol.sampling.max_new_tokens[name]);
    ref.forEach((r, i) => {
      const p = pack.prompts[i];
      assert.equal(p.text, r.prompt, `${name}[${i}].text`);
      assert.equal(p.guide, r.guide, `${name}[${i}].guide`);
      assert.deepEqual(p.answers, r.answers, `${name}[${i}].answers`);
    });
  }
  const t = await loadTemplates();
  assert.deepEqual(Object.keys(protocol.templates).sort(), [...PAPER_TEMPLATES].sort());
  for (const [name, ref] of Object.entries(protocol.templates)) {
    assert.equal(t.templates[name].text, ref.template, name);
    assert.deepEqual(t.templates[name].used_for, ref.used_for, name);
  }
});

function goodPack(): Record<string, unknown> {
  return {
    format: "prompt-pack/1",
    name: "mine",
    max_new_tokens: 10,
    prompts: [{ id: "a", text: "Q1", guide: " A", answers: ["x"] }, { id: "b", text: "Q2" }],
  };
}

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PromptDataError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("bad packs are rejected with file and JSON path", () => {
  assert.equal(validatePromptPack(goodPack(), "mine.json").prompts.length, 2);
  const bad = (edit: (p: Record<string, unknown>) => void) => {
    const p = goodPack();
    edit(p);
    return () => validatePromptPack(p, "mine.json");
  };
  const prompts = (p: Record<string, unknown>) => p.prompts as Record<string, unknown>[];
  rejects(bad((p) => p.format = "prompt-pack/2"), /^mine\.json: format: expected "prompt-pack\/1"/);
  rejects(bad((p) => delete p.name), /^mine\.json: name: missing required field/);
  rejects(bad((p) => p.prompts = []), /prompts: expected at least one prompt/);
  rejects(bad((p) => delete prompts(p)[1].text), /prompts\[1\]\.text: missing required field/);
  rejects(
    bad((p) => prompts(p)[1].id = "a"),
    /prompts\[1\]\.id: duplicate id "a" \(first used by prompts\[0\]\)/,
  );
  rejects(bad((p) => prompts(p)[0].answers = []), /prompts\[0\]\.answers: expected a non-empty array/);
  rejects(
    bad((p) => prompts(p)[0].answers = ["x", 3]),
    /prompts\[0\]\.answers\[1\]: expected string, got integer/,
  );
  rejects(bad((p) => prompts(p)[0].guide = null), /prompts\[0\]\.guide: expected string, got null/);
  rejects(
    bad((p) => prompts(p)[0].answer = ["x"]),
    /prompts\[0\]\.answer: unknown field; did you mean "answers"\?/,
  );
  rejects(
    bad((p) => {
      p.Name = p.name;
      delete p.name;
    }),
    /^mine\.json: name: missing required field\nmine\.json: Name: unknown field; did you mean "name"\?/,
  );
  rejects(bad((p) => p.extra = 1), /^mine\.json: extra: unknown field/);
  rejects(bad((p) => p.max_new_tokens = 0), /max_new_tokens: expected an integer ≥ 1/);
  rejects(() => validatePromptPack([], "mine.json"), /expected object, got array/);
  // Every problem is reported at once, each with its path.
  rejects(
    bad((p) => {
      p.max_new_tokens = 2.5;
      prompts(p)[1].id = "a";
      prompts(p)[0].guide = 1;
    }),
    /max_new_tokens: expected integer.*\n.*prompts\[0\]\.guide: expected string, got integer/,
  );
});

Deno.test("bad templates are rejected with file and JSON path", () => {
  const good = () => ({
    format: "prompt-templates/1",
    templates: { a: { text: "{prompt}{guide}" }, b: { text: "Q: {prompt}", corrects: "a", notes: ["n"] } },
  });
  assert.ok(validateTemplates(good(), "t.json").templates.b);
  const bad = (edit: (d: ReturnType<typeof good>) => void) => {
    const d = good();
    edit(d);
    return () => validateTemplates(d, "t.json");
  };
  rejects(bad((d) => (d as Record<string, unknown>).format = "prompt-pack/1"), /^t\.json: format: expected/);
  rejects(
    bad((d) => d.templates.a.text = "{guide} only"),
    /templates\.a\.text: template has no \{prompt\} placeholder/,
  );
  rejects(bad((d) => d.templates.b.corrects = "zz"), /templates\.b\.corrects: no template named "zz"/);
  rejects(
    bad((d) => (d.templates.a as Record<string, unknown>).txt = "x"),
    /templates\.a\.txt: unknown field/,
  );
  rejects(
    bad((d) => (d.templates as Record<string, unknown>).c = {}),
    /templates\.c\.text: missing required field/,
  );
});

Deno.test("invalid JSON on disk names the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "prompts-test-"));
  try {
    const file = join(dir, "broken.json");
    writeFileSync(file, "{ nope");
    await assert.rejects(loadPromptPack(file), (e: unknown) => {
      assert.ok(e instanceof PromptDataError);
      assert.ok(e.message.startsWith(`${file}: invalid JSON`), e.message);
      return true;
    });
    await assert.rejects(loadTemplates(file), PromptDataError);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
