/**
 * docs/operations.md's systemd unit (docs/examples/radledger.service) is a unit systemd accepts and
 * keeps the promises the guide makes of it: `systemd-analyze verify` finds nothing to say about it
 * (an unknown or misspelt key is a warning there), it has the keys the guide names, and every option
 * its ExecStart gives `radledger serve` is one the built command line knows.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const UNIT = join(import.meta.dirname, "../../docs/examples/radledger.service");
const tmp = tempDir("radledger-unit-");

afterAll(() => tmp.remove());

/** The unit's [Service] settings, key → values (a key may repeat). */
function serviceSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    expect(m, `not a key=value line: ${line}`).not.toBeNull();
    if (section !== "Service") continue;
    out.set(m![1]!, [...(out.get(m![1]!) ?? []), m![2]!]);
  }
  return out;
}

const hasSystemdAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

test("systemd-analyze verify accepts the unit without a warning (or, without systemd, it parses)", () => {
  const text = readFileSync(UNIT, "utf8");
  if (hasSystemdAnalyze) {
    const copy = join(tmp.path, "radledger.service");
    copyFileSync(UNIT, copy);
    const r = spawnSync("systemd-analyze", ["verify", copy], { encoding: "utf8" });
    expect(r.stderr.trim(), r.stderr).toBe("");
    expect(r.status).toBe(0);
  }
  expect(serviceSettings(text).size).toBeGreaterThan(10);
});

test("the unit has what docs/operations.md promises: user, state directory, RADLEDGER_DATA, SIGTERM, restart, hardening", () => {
  const s = serviceSettings(readFileSync(UNIT, "utf8"));
  const one = (key: string): string => {
    expect(s.get(key), key).toHaveLength(1);
    return s.get(key)![0]!;
  };
  expect(one("User")).toBe("radledger");
  expect(one("StateDirectory")).toBe("radledger");
  expect(s.get("Environment")).toContain("RADLEDGER_DATA=/var/lib/radledger");
  expect(one("KillSignal")).toBe("SIGTERM");
  expect(one("Restart")).toBe("on-failure");
  // Longer than the node's 10 s drain, so systemd's SIGKILL does not cut it short.
  expect(Number(one("TimeoutStopSec"))).toBeGreaterThan(10);
  expect(one("NoNewPrivileges")).toBe("yes");
  expect(one("ProtectSystem")).toBe("strict");
  expect(one("ReadWritePaths")).toBe("/var/lib/radledger");
  expect(one("PrivateTmp")).toBe("yes");
  expect(one("RestrictAddressFamilies")).toContain("AF_UNIX"); // the node's local socket
  expect(one("ExecStart")).toMatch(/ serve /);
  expect(one("ExecStart")).not.toContain("--data"); // RADLEDGER_DATA names it
});

test("every option ExecStart passes to `radledger serve` is one the command knows", async () => {
  const exec = serviceSettings(readFileSync(UNIT, "utf8")).get("ExecStart")![0]!;
  const help = await runCli(["serve", "--help"]);
  expect(help.code).toBe(0);
  const [node, serve] = exec.split(" serve ") as [string, string];
  const options = serve.split(/\s+/).filter((w) => w.startsWith("--"));
  expect(options.length).toBeGreaterThan(3);
  for (const o of options) expect(help.stdout, o).toContain(o);
  // node runs with the command's own flags and allocator setting (its first line, src/cli/main.ts).
  const shebang = readFileSync(join(import.meta.dirname, "../../src/cli/main.ts"), "utf8").split("\n")[0]!;
  for (const flag of shebang.split(/\s+/).filter((w) => w.startsWith("--"))) expect(node).toContain(flag);
  const malloc = /MALLOC_MMAP_THRESHOLD_=\d+/.exec(shebang)![0];
  expect(serviceSettings(readFileSync(UNIT, "utf8")).get("Environment")).toContain(malloc);
});

test("docs/operations.md has its Backup and restore section and links the unit", () => {
  const doc = readFileSync(join(import.meta.dirname, "../../docs/operations.md"), "utf8");
  expect(doc).toMatch(/\n## Backup and restore\n/);
  // The guide links the unit it describes.
  expect(doc).toContain("(examples/radledger.service)");
});
