/**
 * `radledger erase patient` cannot be undone, so it is never run silently: with stdin a pipe (not a
 * terminal) and no `--yes` it refuses with CONFIRMATION_REQUIRED and erases nothing — not even when
 * the pipe carries the pseudonym — and with `--yes` it erases.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "../helpers/cli.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { openNode } from "../../src/wiring/node.js";

let t: TestNode;
const patient = fakePseudonym();
const commitments: string[] = [];

beforeAll(async () => {
  t = await makeNode();
  for (const text of ["finding one", "finding two"])
    commitments.push(t.node.vault.put(patient, { text }).commitment);
  await t.node.close(); // the command line opens the directory next
});
afterAll(async () => t.close());

/** The erasure state of the patient as the directory holds it. */
async function state(): Promise<{ recorded: boolean; readable: number }> {
  const node = openNode(t.dir, { verifyThreads: 0 });
  try {
    return {
      recorded: node.store.getDoc("erasure", patient) !== undefined,
      readable: commitments.filter((c) => node.vault.get(c) !== undefined).length,
    };
  } finally {
    await node.close();
  }
}

test("without a terminal and without --yes, erase refuses and erases nothing", async () => {
  const refused = await runCli(["erase", "patient", "--data", t.dir, "--patient", patient, "--json"]);
  expect(refused.stderr).toContain("CONFIRMATION_REQUIRED");
  expect(refused.code).toBe(2);
  // --json: the refusal is the JSON result, and says nothing was erased.
  expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { code: "CONFIRMATION_REQUIRED" } });
  // Piped input is no confirmation either: only a terminal can be asked.
  const piped = await runCli(["erase", "patient", "--data", t.dir, "--patient", patient], `${patient}\n`);
  expect(piped.stderr).toContain("CONFIRMATION_REQUIRED");
  expect(piped.code).toBe(2);
  expect(await state()).toEqual({ recorded: false, readable: 2 });
});

test("with --yes, erase erases", async () => {
  const erased = await runCli(["erase", "patient", "--data", t.dir, "--patient", patient, "--yes", "--json"]);
  expect(erased.code, erased.stderr).toBe(0);
  expect(JSON.parse(erased.stdout)).toEqual({ recorded: true, items: 2 });
  expect(await state()).toEqual({ recorded: true, readable: 0 });
});
