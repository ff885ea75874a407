/**
 * The append benchmark's scratch folders and termination signals (issue 19, finding 6: each killed
 * `radledger bench append` left its ≈ 190 MB scratch folder behind and its pre-signer running).
 *
 * - A scratch folder is named `<tmp>/radledger-bench-[append-]<pid>-XXXXXX`: its owner's PID.
 * - While it exists, SIGINT, SIGTERM and SIGHUP run the registered clean-ups (stop the pre-signer,
 *   remove the folder), then the signal is raised again with its default action, so the command
 *   still dies of it (exit status 128 + signal number, as a shell reports it).
 * - SIGKILL runs no code: the next benchmark sweeps the folders whose owner process is dead. A folder
 *   whose PID is alive is never touched (it may be another benchmark's, running now); a PID reused
 *   by an unrelated process only keeps a stale folder longer.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRATCH_NAME = /^radledger-bench-(?:append-)?([1-9][0-9]{0,9})-[A-Za-z0-9]{6}$/;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Whether process `pid` exists: signal 0 checks without sending (kill(2)); EPERM means it exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Removes the scratch folders in `dir` whose owner process is dead; returns their names. */
export function sweepStaleScratch(dir = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(SCRATCH_NAME.exec(name)?.[1] ?? 0);
    if (pid === 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Clean-ups to run on a termination signal, the latest first. */
const cleanups: (() => void)[] = [];

function onSignal(signal: NodeJS.Signals): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // best effort: the next clean-up still runs, and the process still ends
    }
  }
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // With no listener left the signal's default action applies: the process dies of it.
  process.kill(process.pid, signal);
}

/** Runs `cleanup` if a termination signal arrives before the returned function is called. */
export function onTermination(cleanup: () => void): () => void {
  if (cleanups.length === 0) for (const s of SIGNALS) process.on(s, onSignal);
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i >= 0) cleanups.splice(i, 1);
    if (cleanups.length === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}

/**
 * A new scratch folder named with this process's PID, after sweeping stale ones; removed on a
 * termination signal and by `remove()`.
 */
export function makeScratch(kind: "bench" | "bench-append"): { path: string; remove(): void } {
  sweepStaleScratch();
  const path = mkdtempSync(join(tmpdir(), `radledger-${kind}-${process.pid}-`));
  const removeNow = () => rmSync(path, { recursive: true, force: true });
  const forget = onTermination(removeNow);
  return {
    path,
    remove() {
      forget();
      removeNow();
    },
  };
}
