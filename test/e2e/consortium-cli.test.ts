/**
 * End to end with the built CLI: two institutions configured with the `radledger consortium` verbs,
 * served by `radledger serve`, cosign each other's checkpoints over HTTP; status, evidence and
 * configuration errors as a user sees them.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseSignedNote } from "../../src/core/note.js";
import { runCli, startServe } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-consortium-cli-");
const dir = (n: string): string => join(tmp.path, n);
const origin = (n: string): string => `radledger.cli-${n}.example/log`;
const ports: Record<string, number> = {};
const servers: Awaited<ReturnType<typeof startServe>>[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`radledger ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  for (const n of ["a", "b"]) {
    await cli(["init", "--data", dir(n), "--origin", origin(n)]);
    ports[n] = await freePort();
  }
  for (const [x, y] of [
    ["a", "b"],
    ["b", "a"],
  ] as const) {
    const url = `http://127.0.0.1:${ports[y]}`;
    const logKey = (await cli(["key", "--data", dir(y)])).trim();
    const witnessKey = (await cli(["consortium", "info", "--witness-key", "--data", dir(y)])).trim();
    await cli(["consortium", "add-peer", origin(y), url, logKey, "--data", dir(x)]);
    await cli(["consortium", "add-witness", `w-${y}`, url, witnessKey, "--data", dir(x)]);
    await cli(["consortium", "policy", "1", "--data", dir(x)]);
  }
  for (const n of ["a", "b"]) servers.push(await startServe(dir(n), ["--port", String(ports[n])]));
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  tmp.remove();
});

describe("radledger consortium", () => {
  test("served nodes cosign each other's checkpoints; status shows them final", async () => {
    const url = `http://127.0.0.1:${ports.a}`;
    for (let i = 0; ; i++) {
      const status = JSON.parse(await cli(["consortium", "status", "--url", url, "--json"])) as {
        cosigning: { published?: { final: boolean; witnesses: string[] } };
      };
      if (status.cosigning.published?.final) {
        expect(status.cosigning.published.witnesses).toEqual(["w-b"]);
        break;
      }
      if (i > 200) throw new Error("A's checkpoint never became final");
      await new Promise((r) => setTimeout(r, 50));
    }
    const note = parseSignedNote(await (await fetch(`${url}/checkpoint`)).text());
    expect(note.signatures.map((s) => s.name)).toEqual([origin("a"), "radledger.cli-b.example/witness"]);
    const fromFiles = await cli(["consortium", "status", "--data", dir("b")]);
    expect(fromFiles).toContain("alarms     none");
    expect(await cli(["consortium", "evidence", "--data", dir("a")])).toBe("no evidence\n");
    expect(await cli(["consortium", "policy", "--data", dir("a")])).toMatch(
      /\ngroup consortium all w-b\nquorum consortium\n$/,
    );
  });

  test("refuses wrong configuration and non-evidence files with coded errors", async () => {
    const logKey = (await cli(["key", "--data", dir("b")])).trim();
    const asWitness = await runCli([
      "consortium",
      "add-witness",
      "x",
      "http://127.0.0.1:1",
      logKey,
      "--data",
      dir("a"),
    ]);
    expect([asWitness.code, asWitness.stderr]).toEqual([2, expect.stringContaining("KEY_STRING_MALFORMED")]);
    const wrongOrigin = await runCli([
      "consortium",
      "add-peer",
      origin("z"),
      "http://127.0.0.1:1",
      logKey,
      "--data",
      dir("a"),
    ]);
    expect([wrongOrigin.code, wrongOrigin.stderr]).toEqual([
      2,
      expect.stringContaining("CONSORTIUM_CONFIG_INVALID"),
    ]);
    const tooMany = await runCli(["consortium", "policy", "5", "--data", dir("a")]);
    expect([tooMany.code, tooMany.stderr]).toEqual([2, expect.stringContaining("POLICY_INVALID")]);
    const file = join(tmp.path, "not-evidence.txt");
    writeFileSync(file, "hello\n");
    const notEvidence = await runCli(["verify", file]);
    // Not an evidence file, so it is read as a bundle, which it is not either.
    expect([notEvidence.code, notEvidence.stderr]).toEqual([1, expect.stringContaining("BUNDLE_MALFORMED")]);
    const malformed = join(tmp.path, "bad.evidence");
    writeFileSync(malformed, "radledger-equivocation-evidence/v1\nlog x\n");
    const bad = await runCli(["verify", malformed]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("EVIDENCE_MALFORMED")]);
  });
});
