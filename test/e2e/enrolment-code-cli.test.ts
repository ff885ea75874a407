/**
 * End to end: `radledger actor enrolment-code` — the operator issues a patient's one-time enrolment
 * code from the command line, in its own process (the data directory free) and inside a running
 * `radledger serve` (through its local socket); on the log as enrolment-code.issued by the
 * institution either way; refused for staff (ENROLMENT_NOT_PERMITTED, exit 6) and for a bad --ttl-hours.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { fakePseudonym } from "../helpers/fixtures.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { runCli, startServe } from "../helpers/cli.js";
import { getEnrolmentCode } from "../../src/domain/identity/state.js";
import { parseEnrolmentCode } from "../../src/core/enrolment.js";
import { openReadOnly } from "../../src/wiring/read-only.js";

let t: TestNode;

beforeAll(async () => {
  t = await makeNode();
  await t.enrol("pt-1", ["patient"], { patient: fakePseudonym() });
  await t.enrol("rad-1", ["radiologist"]);
  await t.node.close();
}, 60_000);

afterAll(async () => {
  await t.reopen();
  await t.close();
});

test("issues a code in its own process and through a running server; refuses staff and bad lifetimes", async () => {
  const own = await runCli([
    "actor",
    "enrolment-code",
    "--data",
    t.dir,
    "--actor",
    "pt-1",
    "--ttl-hours",
    "2",
  ]);
  expect(own.code, own.stderr).toBe(0);
  const code = own.stdout.trim();
  expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}$/);
  expect(own.stderr).toContain("shown only now");

  const server = await startServe(t.dir);
  try {
    const served = await runCli(["actor", "enrolment-code", "--data", t.dir, "--actor", "pt-1", "--json"]);
    expect(served.code, served.stderr).toBe(0);
    const out = JSON.parse(served.stdout) as { code: string; record: { id: string; createdBy: string } };
    expect(parseEnrolmentCode(out.code)!.id).toBe(out.record.id);
    expect(out.record.createdBy).toBe("institution");

    const staff = await runCli(["actor", "enrolment-code", "--data", t.dir, "--actor", "rad-1"]);
    expect(staff.code).toBe(6);
    expect(staff.stderr).toContain("ENROLMENT_NOT_PERMITTED");
    const ttl = await runCli([
      "actor",
      "enrolment-code",
      "--data",
      t.dir,
      "--actor",
      "pt-1",
      "--ttl-hours",
      "9999",
    ]);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toContain("CLI_USAGE");

    const ro = openReadOnly(t.dir);
    try {
      for (const id of [parseEnrolmentCode(code)!.id, out.record.id])
        expect(getEnrolmentCode(ro.store, id)).toMatchObject({ actor: "pt-1", issuedBy: "institution" });
    } finally {
      ro.close();
    }
  } finally {
    await server.stop();
  }
});
