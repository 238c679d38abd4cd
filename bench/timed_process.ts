/**
 * Runs a whole process for a benchmark: its wall time from spawn to exit, when each of its stderr lines appeared
 * (to place start-up markers) and, on Linux, how much CPU time the process and its children had used by then
 * (on a busy machine wall time stretches with the load; CPU time much less), its stdout, and the 1-minute load
 * average when it started.
 * @module
 */

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build in use). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) used so far by process `pid` and its living descendants; undefined off Linux or
 * without --allow-all (Deno's condition for reading /proc).
 */
export function treeCpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    let ticks = Number(fields[11]) + Number(fields[12]);
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      let children = "";
      try {
        children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      } catch {
        continue; // a thread that ended meanwhile
      }
      for (const child of children === "" ? [] : children.split(" ")) {
        ticks += (treeCpuSeconds(Number(child)) ?? 0) * USER_HZ;
      }
    }
    return ticks / USER_HZ;
  } catch {
    return undefined;
  }
}

/** What {@link timedProcess} measured. */
export interface TimedProcess {
  /** Spawn to exit, seconds. */
  seconds: number;
  /** Every stderr line with the seconds since spawn at which it was read, and the CPU seconds used by then. */
  lines: { at: number; cpu?: number; text: string }[];
  /** Everything written to stdout. */
  stdout: string;
  /** CPU seconds of the process and its children at the last look before it ended (sampled every 0.1 s; Linux). */
  cpu?: number;
  /** The 1-minute load average at spawn. */
  load: number;
}

/** Runs `command args…` in `cwd` to the end; throws with its stderr unless it exits 0. */
export async function timedProcess(command: string, args: string[], cwd?: string): Promise<TimedProcess> {
  const load = Deno.loadavg()[0];
  const started = performance.now();
  const child = new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).spawn();
  const lines: { at: number; cpu?: number; text: string }[] = [];
  const readLines = async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of child.stderr) {
      const at = (performance.now() - started) / 1000;
      const cpu = treeCpuSeconds(child.pid);
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const text of parts) lines.push({ at, cpu, text });
    }
    if (rest !== "") lines.push({ at: (performance.now() - started) / 1000, text: rest });
  };
  // The CPU used so far, looked at every 0.1 s: once the process is gone, /proc no longer says.
  let cpu: number | undefined;
  const sampler = setInterval(() => cpu = treeCpuSeconds(child.pid) ?? cpu, 100);
  const [stdout, , status] = await Promise.all([
    new Response(child.stdout).text(),
    readLines(),
    child.status,
  ]);
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  if (!status.success) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${status.code}:\n${lines.map((l) => l.text).join("\n")}`,
    );
  }
  return { seconds, lines, stdout, load, cpu };
}

/** The time of the first stderr line matching `pattern` (`at`) and the CPU used by then, or undefined. */
export function lineTime(run: TimedProcess, pattern: RegExp): { at: number; cpu?: number } | undefined {
  return run.lines.find((l) => pattern.test(l.text));
}
