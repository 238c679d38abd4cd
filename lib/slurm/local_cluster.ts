/**
 * A real single-node Slurm cluster on this machine, for the tests of `reproduce --slurm` and for trying it out:
 * Debian's `slurm-wlm` and `munge`, configured in a state folder of the caller's, started by hand (munged as the
 * munge user, then slurmctld and slurmd — no systemd needed) and stopped cleanly. Needs root.
 *
 * Facts it respects (measured on Debian 12 with Slurm 22.05): the node name must be `hostname -s`; CPUs or memory
 * above the node's own put it in state "inval" unless `SlurmdParameters=config_overrides`; every client needs
 * `SLURM_CONF`; a failed `afterok` dependency leaves jobs pending forever unless `kill_invalid_depend`; the pid
 * files vanish before the daemons exit, so stopping waits for the processes.
 * @module
 */
import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";

/** The Debian packages of a single-node cluster. */
const SLURM_APT_PACKAGES: readonly string[] = ["slurm-wlm", "munge"];

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: r.success, code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** Whether the Slurm daemons and munge are installed. */
export function slurmInstalled(): boolean {
  return ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged"].every((p) => existsSync(p));
}

/** Installs the packages with apt-get (root only); returns why not when it cannot. */
export async function installSlurm(log: (l: string) => void = () => {}): Promise<string | undefined> {
  if (slurmInstalled()) return undefined;
  if (Deno.uid() !== 0) return "not root: cannot install slurm-wlm and munge";
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = ["install", "-y", "-q", "--no-install-recommends", ...SLURM_APT_PACKAGES];
  log(`apt-get ${install.join(" ")}`);
  let r = await run("apt-get", install, env);
  if (!r.ok) {
    log("apt-get update");
    const u = await run("apt-get", ["update", "-q"], env);
    r = u.ok ? await run("apt-get", install, env) : u;
  }
  if (!r.ok || !slurmInstalled()) return `apt-get failed: ${r.err.trim().split("\n").at(-1)}`;
  return undefined;
}

/** The slurm.conf of a one-node cluster whose state lives in `stateDir`. */
function localSlurmConf(o: { stateDir: string; host: string; cpus: number; memMb: number }): string {
  const s = o.stateDir;
  return [
    "ClusterName=mode-collapse-local",
    `SlurmctldHost=${o.host}(127.0.0.1)`,
    "SlurmUser=root",
    "SlurmdUser=root",
    "AuthType=auth/munge",
    "CredType=cred/munge",
    `StateSaveLocation=${join(s, "ctld")}`,
    `SlurmdSpoolDir=${join(s, "d")}`,
    `SlurmctldPidFile=${join(s, "slurmctld.pid")}`,
    `SlurmdPidFile=${join(s, "slurmd.pid")}`,
    `SlurmctldLogFile=${join(s, "slurmctld.log")}`,
    `SlurmdLogFile=${join(s, "slurmd.log")}`,
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "JobCompType=jobcomp/none",
    "SchedulerType=sched/backfill",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_Core",
    "ReturnToService=2",
    "MpiDefault=none",
    "MailProg=/bin/true",
    "SchedulerParameters=batch_sched_delay=0",
    "DependencyParameters=kill_invalid_depend",
    // Lets the node claim more CPUs than it has, so every shard of a step can run at once in tests.
    "SlurmdParameters=config_overrides",
    `NodeName=${o.host} NodeAddr=127.0.0.1 CPUs=${o.cpus} RealMemory=${o.memMb} State=UNKNOWN`,
    "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
    "",
  ].join("\n");
}

/** A running local cluster. */
export interface LocalSlurm {
  /** Environment for Slurm's clients (`SLURM_CONF`), merged into this process's. */
  env: Record<string, string>;
  /** The configuration file. */
  conf: string;
  /** Cancels what is left, stops the daemons and waits for them to exit. */
  stop(): Promise<void>;
}

function pidOf(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // signal 0 is not offered; SIGCONT to a running daemon is harmless
    return true;
  } catch {
    return false;
  }
}

async function waitFor(test: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts munged, slurmctld and slurmd with their state in `stateDir`; resolves when the node is idle. */
export async function startLocalSlurm(stateDir: string, o: { cpus?: number } = {}): Promise<LocalSlurm> {
  if (Deno.uid() !== 0) throw new Error("a local Slurm cluster needs root");
  if (!slurmInstalled()) throw new Error("slurm-wlm and munge are not installed");
  for (const d of ["ctld", "d"]) await Deno.mkdir(join(stateDir, d), { recursive: true });
  const host = (await run("hostname", ["-s"])).out.trim();
  const memTotalMb = Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
  const conf = join(stateDir, "slurm.conf");
  await Deno.writeTextFile(
    conf,
    localSlurmConf({
      stateDir,
      host,
      cpus: o.cpus ?? navigator.hardwareConcurrency,
      memMb: Math.max(1, memTotalMb - 1024),
    }),
  );
  const env = { SLURM_CONF: conf };
  const started: string[] = [];
  const stopDaemons = async () => {
    for (const file of started.reverse()) {
      const pid = pidOf(file);
      if (pid === undefined) continue;
      try {
        Deno.kill(pid, "SIGTERM");
      } catch { /* gone already */ }
      await waitFor(() => !alive(pid), 15000, `${file}'s process ${pid} to exit`).catch(() => {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      });
    }
  };
  try {
    // munged: its run folder (no systemd-tmpfiles here), started as the munge user (as root it refuses).
    await run("install", ["-d", "-o", "munge", "-g", "munge", "-m", "0755", "/run/munge"]);
    const mungePid = "/run/munge/munged.pid";
    if (pidOf(mungePid) === undefined || !alive(pidOf(mungePid)!)) {
      const m = await run("runuser", ["-u", "munge", "--", "/usr/sbin/munged"]);
      if (!m.ok) throw new Error(`munged did not start: ${m.err.trim()}`);
      started.push(mungePid);
    }
    for (const [daemon, pidFile] of [["slurmctld", "slurmctld.pid"], ["slurmd", "slurmd.pid"]]) {
      const r = await run(`/usr/sbin/${daemon}`, ["-f", conf], env);
      if (!r.ok) throw new Error(`${daemon} did not start: ${r.err.trim()}`);
      started.push(join(stateDir, pidFile));
    }
    await waitFor(
      async () => {
        const r = await run("sinfo", ["-h", "-o", "%t"], { ...env });
        return r.ok && /^(idle|mix|alloc)/.test(r.out.trim());
      },
      30000,
      "the node to be idle",
    );
  } catch (e) {
    await stopDaemons();
    throw e;
  }
  return {
    env,
    conf,
    async stop() {
      await run("scancel", ["--full", "--user", "root"], env).catch(() => undefined);
      await waitFor(
        async () => {
          const r = await run("squeue", ["-h"], env);
          return !r.ok || r.out.trim() === "";
        },
        30000,
        "the queue to empty",
      ).catch(() => undefined);
      await stopDaemons();
    },
  };
}
