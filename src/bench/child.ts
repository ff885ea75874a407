/**
 * Benchmark steps that run as their own Node process (the load generator, `radledger bench append`,
 * `radledger verify BUNDLE`): so that what is measured — RSS, start-up, CPU — is that process's
 * alone. Stdin is closed; stderr is shown (progress) unless the caller keeps it for an error message.
 */
import { spawn } from "node:child_process";

export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  /** Empty unless stderr was "pipe". */
  readonly stderr: string;
}

/** Runs `node ...args` to its exit; resolves with its exit code and output. */
export async function runNode(
  args: readonly string[],
  stderr: "inherit" | "pipe" = "inherit",
): Promise<NodeRun> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", stderr] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (c: Buffer) => out.push(c));
  child.stderr?.on("data", (c: Buffer) => err.push(c));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
