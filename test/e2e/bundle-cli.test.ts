/**
 * The bundle workflow through the built CLI, as a user runs it: export a report bundle from a data
 * directory, verify it with nothing but the file and the log key (exit 0, a readable report), see a
 * tampered copy fail (exit 1, what and where), and check it against the log's later checkpoint served
 * over tlog-tiles with --log-url.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeNode, type TestNode } from "../helpers/node.js";
import { seedBundleFixture, type BundleFixture } from "../helpers/bundle-fixture.js";
import { exportBundle, runCli, startServe } from "../helpers/cli.js";
import { fakeHash } from "../helpers/fixtures.js";
import { openNode } from "../../src/wiring/node.js";
import { signAs } from "../../src/app/keys.js";

let t: TestNode;
let fx: BundleFixture;
let root: string;
let logKey: string;

beforeAll(async () => {
  t = await makeNode();
  root = dirname(t.dir);
  fx = await seedBundleFixture(t, join(root, "files"));
  logKey = t.node.verifierKey;
  // The CLI opens the data directory itself.
  await t.node.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("export bundle, verify offline, tampered copy fails, later checkpoint from the served log passes", async () => {
  const file = join(root, "report.radledger.tar");
  const exported = await exportBundle(t.dir, "report", fx.report, file);
  expect(exported.stderr).toBe("");
  expect(exported.code).toBe(0);
  expect(exported.stdout).toContain(`verify with: radledger verify ${file} --log-key`);

  const ok = await runCli(["verify", file, "--log-key", logKey, "--quiet"]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(`VERIFIED: report bundle for ${fx.report}`);
  expect(ok.stdout).toContain("Dr Neuro (rad-neuro) [radiologist]");
  expect(ok.stdout).toContain("lists 4 contributions; all are in the bundle and verified");

  const json = await runCli(["verify", file, "--log-key", logKey, "--json", "--threads", "0"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, kind: "report", log: { keyPinned: true } });

  const bytes = readFileSync(file);
  const bad = join(root, "tampered.tar");
  const i = bytes.indexOf("contentCommitment") + 25;
  bytes[i] = bytes[i]! ^ 1;
  writeFileSync(bad, bytes);
  const failed = await runCli(["verify", bad, "--log-key", logKey, "--quiet"]);
  expect(failed.code).toBe(1);
  expect(failed.stdout).toContain("FAILED: report bundle");
  // The changed byte breaks the entry's signature, the inclusion proof and its disclosure's binding;
  // the first failure in archive order is named.
  expect(failed.stderr).toMatch(
    /^radledger: VERIFY_FAILED: the bundle does not verify: ENTRY_BAD_SIGNATURE: entries\/0:\d+: the signature does not verify/,
  );
  expect(failed.stdout).toMatch(
    /ROOT_MISMATCH: inclusion-proof: the leaves and the inclusion proof do not lead to the root of size \d+/,
  );

  const usage = await runCli(["verify"]);
  expect(usage.code).toBe(2);

  // The log grows and is served; the bundle is checked against its later checkpoint from the tiles.
  const node = openNode(t.dir, { verifyThreads: 0 });
  const more = Array.from({ length: 300 }, (_, k) =>
    signAs(node.crypto, t.admin, node.config.origin, "ai.model.registered", {
      vendor: "Acme AI",
      name: `Model${k}`,
      version: "1.0.0",
      artifactHash: fakeHash(),
      intendedUse: "testing",
    }),
  );
  expect((await node.appender.appendAll(more)).every((r) => r.ok)).toBe(true);
  await node.close();
  const serve = await startServe(t.dir);
  try {
    const later = await (await fetch(`${serve.url}/checkpoint`)).text();
    const cpFile = join(root, "later.checkpoint");
    writeFileSync(cpFile, later);
    const consistent = await runCli([
      "verify",
      file,
      "--log-key",
      logKey,
      "--against",
      cpFile,
      "--log-url",
      serve.url,
      "--quiet",
    ]);
    expect(consistent.stdout).toMatch(/consistent with the later checkpoint of size \d{3}/);
    expect(consistent.code).toBe(0);
  } finally {
    await serve.stop();
  }
});

test("export bundle --kind report records the export and the disclosed report's access before writing (issue 21 §3)", async () => {
  const opened = openNode(t.dir, { verifyThreads: 0 });
  const before = opened.ledger.size;
  await opened.close();
  const file = join(root, "recorded.radledger.tar");
  const exported = await exportBundle(t.dir, "report", fx.report, file);
  expect(exported.code).toBe(0);
  const n = openNode(t.dir, { verifyThreads: 0 });
  try {
    const added = [];
    for (let i = before; i < n.ledger.size; i++)
      added.push(
        JSON.parse(Buffer.from(n.store.readEntry(i)!.bytes).toString("utf8")) as Record<string, unknown>,
      );
    expect(added).toMatchObject([
      {
        type: "access.recorded",
        actor: "institution",
        body: { action: "export", decision: "permit", basis: { kind: "role", role: "institution" } },
      },
      {
        type: "audit.recorded",
        body: { event: "export", query: "cli export bundle", object: { kind: "report", id: fx.report } },
      },
    ]);
  } finally {
    await n.close();
  }
});
