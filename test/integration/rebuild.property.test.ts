/**
 * Event sourcing property (docs/design.md §2.4): random sequences of valid and invalid entries across the
 * record families are appended; every refused entry leaves no trace (log size and every projection
 * row unchanged), and the projection rebuilt from scratch equals the live one (verify replays the log
 * and compares every row).
 */
import { afterEach, expect, test } from "vitest";
import fc from "fast-check";
import { toBase64 } from "../../src/core/bytes.js";
import { formatTime } from "../../src/core/entry.js";
import type { JsonObject } from "../../src/core/canonical-json.js";
import type { HeldKey } from "../../src/app/keys.js";
import { auditDataDir } from "../../src/wiring/audit.js";
import { makeNode, newKey, type TestNode } from "../helpers/node.js";
import { fakeHash, fakePseudonym, studyBody } from "../helpers/fixtures.js";

type Op =
  | { kind: "enrol"; role: "radiologist" | "technologist" | "clinician" }
  | { kind: "study"; patient: number; signer: number }
  | { kind: "open"; study: number; signer: number }
  | {
      kind: "contribute";
      report: number;
      signer: number;
      section: "findings" | "impression" | "technique" | "history";
    }
  | { kind: "sign"; report: number; signer: number; drop: boolean }
  | { kind: "grant"; patient: number; byPatient: boolean; grantee: number }
  | { kind: "revoke"; grant: number; byPatient: boolean }
  | { kind: "access"; patient: number; actor: number; valid: boolean }
  | { kind: "garbage"; seed: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("enrol" as const),
    role: fc.constantFrom("radiologist" as const, "technologist" as const, "clinician" as const),
  }),
  fc.record({ kind: fc.constant("study" as const), patient: fc.nat(3), signer: fc.nat(4) }),
  fc.record({ kind: fc.constant("open" as const), study: fc.nat(6), signer: fc.nat(4) }),
  fc.record({
    kind: fc.constant("contribute" as const),
    report: fc.nat(6),
    signer: fc.nat(4),
    section: fc.constantFrom(
      "findings" as const,
      "impression" as const,
      "technique" as const,
      "history" as const,
    ),
  }),
  fc.record({ kind: fc.constant("sign" as const), report: fc.nat(6), signer: fc.nat(4), drop: fc.boolean() }),
  fc.record({
    kind: fc.constant("grant" as const),
    patient: fc.nat(3),
    byPatient: fc.boolean(),
    grantee: fc.nat(4),
  }),
  fc.record({ kind: fc.constant("revoke" as const), grant: fc.nat(6), byPatient: fc.boolean() }),
  fc.record({
    kind: fc.constant("access" as const),
    patient: fc.nat(3),
    actor: fc.nat(4),
    valid: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("garbage" as const), seed: fc.nat(3) }),
);

let t: TestNode | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test("refused entries leave no trace and the rebuilt projection equals the live one", async () => {
  let totalAdmitted = 0;
  let totalRefused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), async (ops) => {
      t = await makeNode();
      const node = t.node;
      const staff: { key: HeldKey; role: string }[] = [];
      const patients = [0, 1, 2, 3].map(() => fakePseudonym());
      const patientKeys: HeldKey[] = [];
      for (let i = 0; i < patients.length; i++)
        patientKeys.push(await t.enrol(`pt-${i}`, ["patient"], { patient: patients[i]! }));
      const studies: { id: string; patient: number }[] = [];
      const reports: { id: string; patient: number; contributions: string[] }[] = [];
      const grants: { id: string; patient: number }[] = [];
      let admitted = 0;
      let refused = 0;
      const pick = <T>(list: readonly T[], i: number): T | undefined =>
        list.length === 0 ? undefined : list[i % list.length];
      const signer = (i: number): HeldKey => pick(staff, i)?.key ?? t!.admin;

      for (const o of ops) {
        let bytes: Uint8Array;
        let onOk: ((leaf: string) => void) | undefined;
        switch (o.kind) {
          case "enrol": {
            const key = newKey(`staff-${staff.length}`);
            bytes = t.sign(t.admin, "actor.enrolled", {
              actorId: key.actor,
              kind: "staff",
              roles: [o.role],
              publicKey: toBase64(key.publicKey),
            });
            onOk = () => staff.push({ key, role: o.role });
            break;
          }
          case "study":
            bytes = t.sign(
              o.signer === 4 ? t.institution : signer(o.signer),
              "study.registered",
              studyBody(patients[o.patient]),
            );
            onOk = (id) => studies.push({ id, patient: o.patient });
            break;
          case "open": {
            const s = pick(studies, o.study);
            bytes = t.sign(
              signer(o.signer),
              "report.opened",
              { reportKind: "diagnostic" },
              s ? { study: s.id } : { study: fakeHash() },
            );
            onOk = (id) => reports.push({ id, patient: s!.patient, contributions: [] });
            break;
          }
          case "contribute": {
            const r = pick(reports, o.report);
            const s = pick(staff, o.signer);
            bytes = t.sign(
              signer(o.signer),
              "report.contribution",
              {
                section: o.section,
                role: s?.role ?? "radiologist",
                contentCommitment: fakeHash(),
                origin: "human",
              },
              { report: r?.id ?? fakeHash() },
            );
            onOk = (id) => r!.contributions.push(id);
            break;
          }
          case "sign": {
            const r = pick(reports, o.report);
            const listed = r ? (o.drop ? r.contributions.slice(1) : r.contributions) : [];
            bytes = t.sign(
              signer(o.signer),
              "report.signed",
              { attestation: "final" },
              { report: r?.id ?? fakeHash(), contributions: listed.length > 0 ? listed : [fakeHash()] },
            );
            break;
          }
          case "grant": {
            const grantee = pick(staff, o.grantee)?.key.actor ?? "admin";
            const body: JsonObject = {
              patient: patients[o.patient]!,
              grantee: { kind: "actor", id: grantee },
              scope: { kind: "all-imaging" },
              purposes: ["TREAT"],
              period: { start: formatTime(Date.now() - 1000) },
            };
            bytes = o.byPatient
              ? t.sign(patientKeys[o.patient]!, "consent.granted", body)
              : t.sign(signer(o.grantee), "consent.granted", body);
            onOk = (id) => grants.push({ id, patient: o.patient });
            break;
          }
          case "revoke": {
            const g = pick(grants, o.grant);
            bytes = t.sign(
              o.byPatient && g ? patientKeys[g.patient]! : t.admin,
              "consent.revoked",
              {},
              { grant: g?.id ?? fakeHash() },
            );
            break;
          }
          case "access": {
            const s = studies.find((x) => x.patient === o.patient);
            const actor = pick(staff, o.actor)?.key.actor ?? "admin";
            const body: JsonObject = o.valid
              ? {
                  actor,
                  patient: patients[o.patient]!,
                  part: { kind: "study", id: s?.id ?? fakeHash() },
                  action: "read",
                  purpose: "TREAT",
                  decision: "deny",
                  reason: "no-grant",
                }
              : {
                  actor,
                  patient: patients[o.patient]!,
                  part: { kind: "study", id: s?.id ?? fakeHash() },
                  action: "read",
                  purpose: "TREAT",
                  decision: "permit",
                  basis: { kind: "care" },
                };
            bytes = t.sign(t.institution, "access.recorded", body);
            break;
          }
          case "garbage":
            bytes = [
              new TextEncoder().encode('{"v":1}'),
              new Uint8Array([0xff, 0x00]),
              t.sign(t.admin, "no.such-type", {}),
              new TextEncoder().encode(" "),
            ][o.seed]!;
            break;
        }
        const sizeBefore = node.ledger.size;
        const rowsBefore = [...node.store.stateRows()];
        const [result] = await node.appender.appendAll([bytes]);
        if (result!.ok) {
          admitted++;
          onOk?.(result!.leafHash);
        } else {
          refused++;
          expect(node.ledger.size).toBe(sizeBefore);
          expect([...node.store.stateRows()]).toEqual(rowsBefore);
        }
      }
      await node.close();
      const report = await auditDataDir(t.dir, { threads: 0 });
      expect(report, JSON.stringify(report.failure)).toMatchObject({ ok: true });
      await t.reopen();
      expect(admitted + refused).toBe(ops.length);
      totalAdmitted += admitted;
      totalRefused += refused;
      // Each run's data directory goes with it (afterEach closes the one a failing run leaves).
      await t.close();
      t = undefined;
    }),
    { numRuns: 12 },
  );
  // The generator must exercise both paths substantially, or the property proves little. As shares
  // of all operations, not counts: the arrays' lengths are random too (one CI run admitted exactly
  // 60 and failed a fixed "> 60"). Typical shares: ≈ 35 % admitted, ≈ 65 % refused.
  const total = totalAdmitted + totalRefused;
  expect(totalAdmitted / total).toBeGreaterThan(0.15);
  expect(totalRefused / total).toBeGreaterThan(0.15);
}, 180_000);
