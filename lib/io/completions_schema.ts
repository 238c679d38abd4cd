/**
 * The `completions/2` and `completions/1` schemas: field types and ranges, and the checks across the document
 * (T·P cells in order, each at its temperature, none over-full). Problems are reported as one
 * {@link CompletionsFormatError} listing every problem with its JSON path.
 * @module
 */
import { JsonFormatError, type JsonProblem } from "./json_file.ts";
import {
  anyObject,
  arr,
  int,
  isoTime,
  isPlainObject,
  jsonType,
  loose,
  type MakeError,
  nonEmpty,
  num,
  numbers,
  oneOf,
  record,
  type Report,
  str,
  strict,
  tag,
  v,
  validateWith,
} from "./schema.ts";
import {
  type CompletionCell,
  COMPLETIONS_FORMAT,
  COMPLETIONS_FORMATS_READ,
  type CompletionsDoc,
} from "./completions_doc.ts";

/** A file that is not a valid completions document; names the file and the JSON path of each problem. */
export class CompletionsFormatError extends JsonFormatError {
  constructor(path: string, jsonPath: string, what: string, more: readonly JsonProblem[] = []) {
    super(path, jsonPath, what, more);
    this.name = "CompletionsFormatError";
  }
}

/** Builds the {@link CompletionsFormatError} for a file's problems (first problem first). */
export const completionsError: MakeError = (file, problems) =>
  new CompletionsFormatError(file, problems[0].jsonPath, problems[0].message, problems.slice(1));

// ---------------------------------------------------------------------------------------------------------------
// The schema (completions/2, and completions/1 without prompts[].input_ids)
// ---------------------------------------------------------------------------------------------------------------

/** A per-sample seed: an integer or a derived seed string. */
const seedValue = v.union([str(), int()], (i) => `expected an integer or a string, got ${jsonType(i.input)}`);

const modelRefSchema = strict({ id: nonEmpty(), revision: v.optional(str()), family: v.optional(str()) });

const templateVariable = v.custom<string | number | boolean | null>(
  (x) => x === null || ["string", "number", "boolean"].includes(typeof x),
  "expected a string, number, boolean or null",
);

const templateRefSchema = strict({
  name: str(),
  text: str(),
  variables: v.optional(record(templateVariable)),
  guide_join: v.optional(str()),
});

const promptFields = {
  text: v.nullable(str()),
  guide: v.optional(str()),
  answers: v.optional(arr(str())),
};
const tokenIds = numbers({ integer: true, min: 0 });

const samplingSchema = loose({
  temperatures: numbers({
    min: 0,
    noun: "a temperature",
    minItems: 1,
    minItemsMessage: "expected at least one temperature",
  }),
  samples_per_prompt: int({ min: 1 }),
  max_new_tokens: int({ min: 1 }),
  top_k: v.nullable(int({ min: 0 })),
  top_p: v.nullable(num({ min: 0, exclusiveMin: true, max: 1 })),
  seed: v.nullable(seedValue),
});

const logprobs = numbers({ max: 0, noun: "a log-probability" });

const sampleSchema = strict(
  {
    text: str(),
    token_ids: v.optional(tokenIds),
    logprobs: v.optional(logprobs),
    logprobs_sampled: v.optional(logprobs),
    entropies_nats: v.optional(numbers({ min: 0, noun: "an entropy" })),
    seed: v.optional(seedValue),
    finish: v.optional(oneOf(["stop_token", "length"])),
  },
  (s, report) => {
    const arrays = (["token_ids", "logprobs", "logprobs_sampled", "entropies_nats"] as const)
      .filter((k) => s[k] !== undefined);
    for (const k of arrays.slice(1)) {
      const n = s[k]!.length, first = arrays[0], n0 = s[first]!.length;
      if (n !== n0) report([k], `has ${n} entries but ${first} has ${n0}`);
    }
  },
);

/** The schema of one (temperature, prompt) cell; the completions journal holds one per line. */
export const COMPLETION_CELL_SCHEMA: v.GenericSchema<unknown, CompletionCell> = strict({
  temperature_index: int({ min: 0 }),
  prompt_index: int({ min: 0 }),
  temperature: num(),
  samples: arr(sampleSchema),
  answer_accuracy: v.optional(v.nullable(num({ min: 0, max: 1, noun: "a share" }))),
});

/** Checks across the document: T·P cells in order, each at its temperature, none over-full. */
function cellsAgree(doc: CompletionsDoc, report: Report): void {
  const temperatures = doc.sampling.temperatures, perPrompt = doc.sampling.samples_per_prompt;
  const T = temperatures.length, P = doc.prompts.length;
  if (doc.cells.length !== T * P) {
    report(["cells"], `expected ${T * P} cells (${T} temperatures × ${P} prompts), got ${doc.cells.length}`);
    return;
  }
  doc.cells.forEach((cell, i) => {
    const t = Math.floor(i / P), p = i % P;
    const order = "(cells are ordered by temperature, then prompt)";
    if (cell.temperature_index !== t) report(["cells", i, "temperature_index"], `expected ${t} ${order}`);
    if (cell.prompt_index !== p) report(["cells", i, "prompt_index"], `expected ${p} ${order}`);
    if (cell.temperature !== temperatures[t]) {
      report(
        ["cells", i, "temperature"],
        `expected sampling.temperatures[${t}] = ${temperatures[t]}, got ${cell.temperature}`,
      );
    }
    if (cell.samples.length > perPrompt) {
      report(
        ["cells", i, "samples"],
        `holds ${cell.samples.length} samples, more than samples_per_prompt = ${perPrompt}`,
      );
    }
  });
}

function documentSchema(v2: boolean) {
  return strict(
    {
      format: v2
        ? v.literal(
          COMPLETIONS_FORMAT,
          (i) =>
            `expected ${COMPLETIONS_FORMATS_READ.map((f) => `"${f}"`).join(" or ")}, got ${
              JSON.stringify(i.input) ?? "nothing"
            }`,
        )
        : tag("completions/1"),
      created: isoTime(),
      model: modelRefSchema,
      template: v.optional(templateRefSchema),
      prompt_set: nonEmpty(),
      prompts: arr(
        v2
          ? strict({
            ...promptFields,
            input_ids: numbers({
              integer: true,
              min: 0,
              minItems: 1,
              minItemsMessage: "expected at least one token id",
            }),
          })
          : strict(promptFields),
        1,
        "expected at least one prompt",
      ),
      sampling: samplingSchema,
      cells: arr(COMPLETION_CELL_SCHEMA),
      provenance: anyObject(),
    },
    (doc, report) => cellsAgree(doc as CompletionsDoc, report),
  );
}

/** The `completions/2` schema: every prompt records the token ids the model read. */
const COMPLETIONS_V2_SCHEMA: v.GenericSchema<unknown, CompletionsDoc> = documentSchema(true);
/** The `completions/1` schema: as `/2` without `prompts[].input_ids`. */
const COMPLETIONS_V1_SCHEMA: v.GenericSchema<unknown, CompletionsDoc> = documentSchema(false);

/**
 * Validates a parsed value as a `completions/2` or `completions/1` document (the `format` field picks the
 * schema); throws one {@link CompletionsFormatError} listing every problem with its JSON path.
 */
export function validateCompletionsDoc(value: unknown, pathForErrors: string): CompletionsDoc {
  const v1 = isPlainObject(value) && value.format === "completions/1";
  return validateWith(v1 ? COMPLETIONS_V1_SCHEMA : COMPLETIONS_V2_SCHEMA, value, pathForErrors, {
    makeError: completionsError,
    formats: COMPLETIONS_FORMATS_READ,
  });
}
