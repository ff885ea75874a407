/**
 * `radledger query` about one patient: an unknown or mistyped pseudonym is PATIENT_UNKNOWN (exit 3,
 * "no such patient"), never "no accesses recorded" — which an auditor reads as "nobody looked"
 * (issue 20). A malformed one is a usage error; a known patient with nothing recorded still gets
 * its empty answer.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { makeNode, type TestNode } from "../helpers/node.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { runCli } from "../helpers/cli.js";

let t: TestNode;
const known = fakePseudonym();
const typo = fakePseudonym();

beforeAll(async () => {
  t = await makeNode();
  await t.enrol("pt-1", ["patient"], { kind: "patient", patient: known });
  await t.node.close();
}, 60_000);

afterAll(async () => {
  await t.reopen();
  await t.close();
});

const decision = (patient: string): string[] => [
  "consent-decision",
  "--actor",
  "admin",
  "--patient",
  patient,
  "--part",
  `study:${"a".repeat(64)}`,
  "--purpose",
  "TREAT",
];

test("access-history, grants and consent-decision refuse an unknown pseudonym with PATIENT_UNKNOWN", async () => {
  for (const args of [["access-history", "--patient", typo], ["grants", "--patient", typo], decision(typo)]) {
    const r = await runCli(["query", ...args, "--data", t.dir]);
    expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(3);
    expect(r.stderr).toContain("PATIENT_UNKNOWN");
    expect(r.stderr).toContain("no such patient");
    expect(r.stdout).not.toContain("no accesses recorded");
  }
});

test("a malformed pseudonym is a usage error; a known patient answers its (empty) list", async () => {
  const bad = await runCli(["query", "access-history", "--patient", "pt_short", "--data", t.dir]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("CLI_USAGE");

  const ok = await runCli(["query", "access-history", "--patient", known, "--data", t.dir]);
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toContain("no accesses recorded");
  const grants = await runCli(["query", "grants", "--patient", known, "--data", t.dir, "--json"]);
  expect(grants.code, grants.stderr).toBe(0);
  expect(JSON.parse(grants.stdout)).toEqual([]);
});
