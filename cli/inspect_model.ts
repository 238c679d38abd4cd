/**
 * `deno task analyse inspect-model <dir|preset>`: what the toolkit makes of a model folder — architecture,
 * parameters, dtype files, attention layout, tokenizer, chat template, BOS/EOS, generation defaults — and each
 * problem as a sentence. Exit 0 when the folder is ready, 1 when a problem was found.
 * @module
 */
import type { Command } from "./command.ts";
import { parseCommandLine } from "./options.ts";
import { describeInspection, inspectModel } from "../lib/models/inspect.ts";

const USAGE = `usage: deno task analyse inspect-model <dir|preset|id> [--json]
  --json    the findings as JSON instead of lines
reads the folder; writes no file (the findings go to standard output).`;

/** The `inspect-model` command. */
export const command: Command = {
  summary: "what the toolkit makes of a model folder (architecture, files, tokenizer, chat template, EOS)",
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandLine({
      args,
      options: { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      console.error(USAGE);
      return 2;
    }
    console.error(`inspect-model: reads ${positionals[0]}; writes no file`);
    const found = await inspectModel(positionals[0]);
    console.log(values.json ? JSON.stringify(found, null, 2) : describeInspection(found));
    return found.problems.length === 0 ? 0 : 1;
  },
};
