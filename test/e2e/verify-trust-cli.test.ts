/**
 * `radledger verify BUNDLE` and trust (issue 18, finding 5): a bundle checked only against the key
 * it carries proves nothing — anyone can make one — so it is UNTRUSTED (exit 8, BUNDLE_UNTRUSTED),
 * never VERIFIED; VERIFIED needs a log key the user trusts, given with --log-key or by a consortium
 * policy file (--policy); a failed verification never says "N entries verified"; a malformed
 * --log-key or policy is the user's input error (exit 2), not the bundle's failure.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { makeNode, type TestNode } from "../helpers/node.js";
import { seedBundleFixture, type BundleFixture } from "../helpers/bundle-fixture.js";
import { exportBundle, runCli } from "../helpers/cli.js";
import { nodeCrypto } from "../../src/adapters/node-crypto/crypto.js";
import { cosigner, formatCosignatureVerifierKey } from "../../src/core/cosignature.js";

let t: TestNode;
let fx: BundleFixture;
let root: string;
let logKey: string;
let file: string;
let tampered: string;

const ENTRIES_VERIFIED = /\d+ entr(y|ies) verified/;

beforeAll(async () => {
  t = await makeNode();
  root = dirname(t.dir);
  fx = await seedBundleFixture(t, join(root, "files"));
  logKey = t.node.verifierKey;
  await t.node.close();
  file = join(root, "report.radledger.tar");
  const exported = await exportBundle(t.dir, "report", fx.report, file);
  expect(exported.code).toBe(0);
  const bytes = readFileSync(file);
  const i = bytes.indexOf("contentCommitment") + 25;
  bytes[i] = bytes[i]! ^ 1;
  tampered = join(root, "tampered.tar");
  writeFileSync(tampered, bytes);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("without a trusted key a bundle is UNTRUSTED with exit 8, never VERIFIED", async () => {
  const r = await runCli(["verify", file, "--quiet"]);
  expect(r.code).toBe(8);
  expect(r.stdout).toMatch(new RegExp(`^UNTRUSTED: report bundle for ${fx.report}`));
  expect(r.stdout).not.toContain("VERIFIED");
  expect(r.stdout).not.toMatch(ENTRIES_VERIFIED);
  expect(r.stderr).toMatch(/^radledger: BUNDLE_UNTRUSTED: .*--log-key/);

  const json = await runCli(["verify", file, "--json", "--threads", "0"]);
  expect(json.code).toBe(8);
  expect(JSON.parse(json.stdout)).toMatchObject({
    ok: false,
    trust: "untrusted",
    failures: [],
    log: { keyPinned: false },
  });
});

test("with the log's key, or a policy naming it, the same bundle is VERIFIED (exit 0)", async () => {
  const r = await runCli(["verify", file, "--log-key", logKey, "--quiet"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^VERIFIED: /);
  expect(r.stdout).toMatch(ENTRIES_VERIFIED);

  const policy = join(root, "policy.txt");
  writeFileSync(policy, `log ${logKey}\nquorum none\n`);
  const byPolicy = await runCli(["verify", file, "--policy", policy, "--json", "--threads", "0"]);
  expect(byPolicy.code).toBe(0);
  expect(JSON.parse(byPolicy.stdout)).toMatchObject({ ok: true, trust: "verified" });
});

test("a policy's witness quorum must be met; a policy not naming this log trusts nothing", async () => {
  const witness = formatCosignatureVerifierKey(cosigner(nodeCrypto, "witness.example/w1", randomBytes(32)));
  const quorum = join(root, "quorum.txt");
  writeFileSync(quorum, `log ${logKey}\nwitness w1 ${witness}\nquorum w1\n`);
  const r = await runCli(["verify", file, "--policy", quorum, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^FAILED: /);
  expect(r.stdout).toContain("POLICY_NOT_MET");
  expect(r.stdout).not.toMatch(ENTRIES_VERIFIED);

  const other = await makeNode();
  const elsewhere = join(root, "elsewhere.txt");
  writeFileSync(elsewhere, `log ${other.node.verifierKey}\nquorum none\n`);
  await other.close();
  const wrong = await runCli(["verify", file, "--policy", elsewhere, "--quiet"]);
  expect(wrong.code).toBe(1);
  expect(wrong.stdout).toMatch(/^FAILED: /);
});

test("a failed verification never says that entries were verified, with or without a key", async () => {
  for (const args of [[], ["--log-key", logKey]]) {
    const r = await runCli(["verify", tampered, ...args, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: /);
    expect(r.stdout).not.toMatch(ENTRIES_VERIFIED);
    expect(r.stderr).toMatch(/^radledger: VERIFY_FAILED: /);
  }
});

test("a malformed --log-key or policy is the input's fault (exit 2), not the bundle's", async () => {
  const r = await runCli(["verify", file, "--log-key", "not-a-key", "--quiet"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^radledger: KEY_STRING_MALFORMED: the --log-key given is not a log verifier key/);
  expect(r.stdout).toBe("");

  const witnessAsLog = formatCosignatureVerifierKey(cosigner(nodeCrypto, "w", randomBytes(32)));
  const typed = await runCli(["verify", file, "--log-key", witnessAsLog, "--quiet"]);
  expect([typed.code, typed.stderr]).toEqual([2, expect.stringContaining("--log-key")]);

  const badWitness = await runCli(["verify", file, "--log-key", logKey, "--witness-key", "x", "--quiet"]);
  expect([badWitness.code, badWitness.stderr]).toEqual([2, expect.stringContaining("--witness-key")]);

  const policy = join(root, "bad-policy.txt");
  writeFileSync(policy, "log nonsense\nquorum none\n");
  const badPolicy = await runCli(["verify", file, "--policy", policy, "--quiet"]);
  expect([badPolicy.code, badPolicy.stderr]).toEqual([2, expect.stringContaining("POLICY_INVALID")]);
  const missing = await runCli(["verify", file, "--policy", join(root, "nope.txt"), "--quiet"]);
  expect(missing.code).toBe(3);
});
