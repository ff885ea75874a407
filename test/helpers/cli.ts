/** Runs the built CLI (dist/cli/main.js) as a user would, capturing output and exit code. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "../../dist/cli/main.js");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `as`: run as another user (the tests run as root in CI; a read-only directory needs someone else). */
export function runCli(
  args: readonly string[],
  input?: string,
  as?: { readonly uid: number; readonly gid: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"], ...as });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** `radledger export bundle` of one record, quietly. */
export function exportBundle(dataDir: string, kind: string, id: string, out: string): Promise<CliResult> {
  return runCli(["export", "bundle", "--data", dataDir, "--kind", kind, "--id", id, "--out", out, "--quiet"]);
}

/**
 * Starts `radledger serve --port 0` and resolves with its base URL once it listens. `nodeFlags` and
 * `env`: V8 flags and environment of the process (NODE_FLAGS and NODE_ENV of src/app/node-flags.ts
 * run it exactly as the `radledger` command's shebang does).
 */
export function startServe(
  dataDir: string,
  extra: readonly string[] = [],
  nodeFlags: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const args = [...nodeFlags, CLI, "serve", "--data", dataDir, "--port", "0", ...extra];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /at (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        resolve({
          url: m[1]!,
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) {
                done();
                return;
              }
              child.once("exit", () => done());
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}
