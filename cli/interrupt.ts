/**
 * Ctrl-C for long commands: the first SIGINT aborts the command's signal (the job stops at its next check —
 * between windows, decoding steps or cells — and keeps what is done); a second one quits at once.
 * @module
 */

/** Listens for SIGINT on behalf of `command`; returns the function that stops listening. */
export function onInterrupt(command: string, controller: AbortController, what: string): () => void {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      console.error(`\n${command}: interrupted; ${what} (Ctrl-C again to quit at once)`);
      controller.abort(new DOMException("interrupted (SIGINT)", "AbortError"));
    } else {
      console.error(`${command}: quitting now`);
      Deno.exit(130);
    }
  };
  Deno.addSignalListener("SIGINT", handler);
  return () => Deno.removeSignalListener("SIGINT", handler);
}
