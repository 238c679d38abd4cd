/**
 * The shape of a `deno task analyse` command, in a module of its own so that the command files and the
 * dispatcher (./analyse.ts) that loads them do not import each other.
 * @module
 */

/** A CLI command: parses its own arguments and returns a process exit code. */
export interface Command {
  /** One line shown in the command list. */
  summary: string;
  /** Runs the command. */
  run(args: string[]): Promise<number>;
}
