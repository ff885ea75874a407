/**
 * The README's test command is self-sufficient (issue 19, finding 9): `npm test` is scripts/test.sh,
 * which installs the missing Debian packages, starts and stops its services and runs vitest; `.ci/run`
 * calls exactly `npm test`, and both install from the one list, scripts/debian-packages.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { tempDir } from "../helpers/node.js";

const root = join(import.meta.dirname, "../..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");
const packages = (): string[] =>
  read("scripts/debian-packages")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

test("the README's test command is npm test, and npm test is scripts/test.sh running vitest", () => {
  expect(read("README.md")).toMatch(/^npm test\s+#/m);
  const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
  expect(scripts.test).toBe("bash scripts/test.sh");
  const script = read("scripts/test.sh");
  expect(script).toContain("scripts/install-test-deps.sh");
  expect(script).toMatch(/vitest" run "\$@"/);
});

test(".ci/run runs exactly npm test, and installs from the same package list", () => {
  const ci = read(".ci/run");
  expect(ci).toMatch(/^npm test -- /m);
  expect(ci).not.toMatch(/vitest run/);
  expect(ci).toContain("scripts/install-test-deps.sh");
  expect(ci).not.toMatch(/PACKAGES=\(/);
});

test("every listed Debian package is installed on this machine (the installer ran)", () => {
  for (const name of packages()) {
    const status = execFileSync("dpkg-query", ["-W", "-f=${Status}", name], { encoding: "utf8" });
    expect(status, name).toBe("install ok installed");
  }
});

test("without privilege, the installer names what is missing and how to install it (exit 1)", () => {
  const tmp = tempDir("radledger-deps-");
  try {
    const list = join(tmp.path, "packages");
    writeFileSync(list, "# comment\ndcmtk\nradledger-no-such-package\n");
    chmodSync(tmp.path, 0o755);
    chmodSync(list, 0o644);
    const installer = ["bash", join(root, "scripts/install-test-deps.sh")];
    // As root (CI), drop to nobody; an unprivileged user runs it as it is.
    const [command, ...args] =
      process.getuid?.() === 0
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...installer]
        : installer;
    const run = spawnSync(command!, args, {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", RADLEDGER_DEBIAN_PACKAGES: list },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("missing Debian packages: radledger-no-such-package");
    expect(run.stderr).toContain("apt-get install radledger-no-such-package");
    expect(run.stderr).not.toMatch(/\bdcmtk\b/);
  } finally {
    tmp.remove();
  }
});
