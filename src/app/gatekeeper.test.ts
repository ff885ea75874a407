import { afterEach, beforeEach, expect, test } from "vitest";
import { makeNode, type TestNode } from "../../test/helpers/node.js";
import { fakePseudonym, studyBody } from "../../test/helpers/fixtures.js";
import type { HeldKey } from "./keys.js";
import { createGatekeeper, type AuthorizeRequest } from "./gatekeeper.js";

let t: TestNode;
let patient: string;
let pt: HeldKey;
let study: string;

beforeEach(async () => {
  t = await makeNode();
  patient = fakePseudonym();
  pt = await t.enrol("pt-1", ["patient"], { patient });
  await t.enrol("rad-1", ["radiologist"]);
  study = (await t.node.appender.append(t.sign(t.institution, "study.registered", studyBody(patient))))
    .leafHash;
});
afterEach(async () => t.close());

const accesses = (): number => t.node.store.lookup("access.patient", patient).length;
/** rad-1 reads the patient's study for treatment. */
const studyRead = (): AuthorizeRequest => ({
  actor: "rad-1",
  patient,
  part: { kind: "study", id: study },
  action: "read",
  purpose: "TREAT",
});

test("a grant revoked while the permit is being recorded: the access is denied, recorded once", async () => {
  const grant = (
    await t.node.appender.append(
      t.sign(pt, "consent.granted", {
        patient,
        grantee: { kind: "actor", id: "rad-1" },
        scope: { kind: "all-imaging" },
        purposes: ["TREAT"],
        period: { start: "2020-01-01T00:00:00.000Z" },
      }),
    )
  ).leafHash;
  const decisions: string[] = [];
  const gatekeeper = createGatekeeper(t.node, { onDecision: (d, why) => decisions.push(`${d} ${why}`) });
  const request = studyRead();
  expect((await gatekeeper.authorize(request)).decision).toMatchObject({ decision: "permit" });

  // The revocation is submitted first but not yet committed when the gatekeeper decides: decide()
  // still sees the grant, the append path refuses the permit, and the gatekeeper records a deny.
  let refused = 0;
  t.node.onCommit((info) => (refused += info.refused));
  const revocation = t.node.appender.append(t.sign(pt, "consent.revoked", {}, { grant }));
  const before = accesses();
  const outcome = await gatekeeper.authorize(request);
  await revocation;
  expect(outcome.decision).toEqual({ decision: "deny", reason: "revoked" });
  expect(accesses()).toBe(before + 1);
  expect(decisions).toEqual(["permit consent", "deny revoked"]);
  expect(refused).toBe(1); // the stale permit, refused by the append path, never reached the log
});

test("recordDenial puts the API's own refusal on the patient's history", async () => {
  const gatekeeper = createGatekeeper(t.node);
  const { id } = await gatekeeper.recordDenial({
    actor: "pt-2",
    patient,
    part: { kind: "record" },
    action: "read",
    purpose: "PATRQT",
    reason: "not-own-record",
  });
  expect(t.node.store.getDoc("access", id)).toMatchObject({
    decision: "deny",
    reason: "not-own-record",
    part: { kind: "record" },
  });
});

test("identical accesses in the same millisecond are each recorded (repeat 1, 2, …)", async () => {
  const frozen = Date.now();
  await t.reopen({ verifyThreads: 0, clock: { now: () => frozen } });
  const gatekeeper = createGatekeeper(t.node);
  const request = studyRead();
  const before = accesses();
  // Concurrent, as a viewer fetching the same study twice at once: the same batch or the next.
  const outcomes = await Promise.all([1, 2, 3].map(() => gatekeeper.authorize(request)));
  expect(new Set(outcomes.map((o) => o.access.id)).size).toBe(3);
  expect(accesses()).toBe(before + 3);
  const repeats = outcomes.map((o) => {
    const entry = t.node.store.readEntry(o.access.index)!;
    return (JSON.parse(new TextDecoder().decode(entry.bytes)) as { body: { repeat?: number } }).body.repeat;
  });
  expect(repeats.sort()).toEqual([1, 2, undefined]);
});
