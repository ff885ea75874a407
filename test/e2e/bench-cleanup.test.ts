/**
 * `radledger bench append` cleans up after itself (issue 19, finding 6: "each `bench append` kill
 * leaks a 190 MB scratch folder and leaves the pre-signer running"):
 *
 * - SIGINT, SIGTERM or SIGHUP while it runs: the scratch folder is removed and the pre-signing
 *   process stopped before the command dies of the signal;
 * - SIGKILL (no code of the command runs): the pre-signer notices that its parent is gone (end of
 *   its stdin) and exits on its own, and the next run removes the scratch folder left behind — only
 *   folders whose owner process is dead (their name carries its PID), never one of a live process.
 *
 * Run against the built CLI with TMPDIR pointing at a folder of this test's own, so that whatever is
 * found there is the benchmark's. Every wait polls with a deadline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-bench-cleanup-");
/** Pre-signers this test found: stopped at the end whatever happened (a failing run would leak them). */
const found = new Set<number>();

afterAll(() => {
  for (const pid of found) if (alive(pid)) process.kill(pid, "SIGKILL");
  tmp.remove();
});

/** Whether `pid` runs: a zombie (exited, not yet reaped by whoever adopted it) does not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Polls `probe` every 50 ms until it answers something other than undefined, or fails at the deadline. */
async function until<T>(what: string, probe: () => T | undefined, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pre-signing process of bench `pid` (src/bench/presign-main.ts), from /proc (proc(5)). */
function presignerOf(pid: number): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes("presign-main.js")) return Number(name);
    } catch {
      // the process ended while being read
    }
  }
  return undefined;
}

/** Scratch folders of the benchmark in its temp directory. */
const scratch = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith("radledger-bench-"));

/**
 * `radledger bench append` with its own temp directory, big enough that pre-signing lasts far longer
 * than any deadline below (one thread: ≈ 10,000 signatures/s on a busy core).
 */
function startBench(
  name: string,
  entries = 1_000_000,
  tmpdir = join(tmp.path, name, "tmp"),
): { child: ChildProcess; tmpdir: string } {
  const dir = join(tmp.path, name);
  mkdirSync(tmpdir, { recursive: true });
  const args = [CLI, "bench", "append", "--data", join(dir, "data"), "--entries", String(entries)];
  const child = spawn(process.execPath, [...args, "--threads", "1", "--json"], {
    env: { ...process.env, TMPDIR: tmpdir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.resume();
  child.stderr.resume();
  return { child, tmpdir };
}

const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => resolve({ code, signal }));
  });

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
  test(`${signal} during pre-signing: the scratch folder is removed and the pre-signer stopped`, async () => {
    const { child, tmpdir } = startBench(signal.toLowerCase());
    const presigner = await until("the pre-signer", () => presignerOf(child.pid!));
    found.add(presigner);
    expect(scratch(tmpdir)).toHaveLength(1);
    const exited = exitOf(child);
    child.kill(signal);
    // The command dies of the signal, as it would without the clean-up (its exit status says so).
    expect(await exited).toEqual({ code: null, signal });
    expect(scratch(tmpdir)).toEqual([]);
    await until("the pre-signer to stop", () => (alive(presigner) ? undefined : true), 5_000);
  });

test("SIGKILL: the pre-signer exits on its own; the next run removes the stale folder, not a live one's", async () => {
  const { child, tmpdir } = startBench("sigkill");
  const presigner = await until("the pre-signer", () => presignerOf(child.pid!));
  found.add(presigner);
  const [stale] = scratch(tmpdir);
  expect(stale).toBeDefined();
  const exited = exitOf(child);
  child.kill("SIGKILL");
  expect((await exited).signal).toBe("SIGKILL");
  await until("the orphaned pre-signer to exit", () => (alive(presigner) ? undefined : true), 5_000);
  expect(scratch(tmpdir)).toEqual([stale]); // SIGKILL runs no code: the folder is left…

  // …for the next run, which removes it, but not the folder of a live process (this one).
  const live = `radledger-bench-${process.pid}-AbC123`;
  mkdirSync(join(tmpdir, live));
  const next = startBench("sigkill-next", 10, tmpdir);
  expect(await exitOf(next.child)).toEqual({ code: 0, signal: null });
  expect(scratch(tmpdir)).toEqual([live]);
  expect(existsSync(join(tmpdir, stale!))).toBe(false);
}, 120_000);

test("the pre-signer stops when its stdin ends (its parent is gone) in the middle of signing", async () => {
  const dir = join(tmp.path, "presigner");
  mkdirSync(dir, { recursive: true });
  const script = join(CLI, "../../bench/presign-main.js");
  const child = spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = exitOf(child);
  found.add(child.pid!);
  const job = {
    file: join(dir, "entries.bin"),
    workload: "studies",
    setup: { origin: "radledger.bench.example/log", time: Date.now(), model: "0".repeat(64) },
    count: 1_000_000,
    threads: 1,
  };
  child.stdin.write(`${JSON.stringify(job)}\n`);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  await until("a progress line", () => (/^progress \d+/m.test(out) ? true : undefined));
  child.stdin.end();
  await until("the pre-signer to stop", () => (alive(child.pid!) ? undefined : true), 5_000);
  expect((await exited).code).toBe(1);
  expect(out).not.toContain("done");
});
