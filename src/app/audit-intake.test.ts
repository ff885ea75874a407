/**
 * The audit intake (src/app/audit-intake.ts): an IHE ATNA audit message becomes an access.reported
 * entry signed by the sending system's actor, with the patient and study pseudonymised, the raw
 * message in the patient's vault (or dropped) behind a salted commitment; refusals are coded and
 * counted, never a crash.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../adapters/node-crypto/crypto.js";
import { fromUtf8, toBase64 } from "../core/bytes.js";
import { isRadledgerError } from "../core/errors.js";
import { reportedAccesses } from "../domain/access/reported.js";
import { checkCommitment } from "../domain/privacy/commitments.js";
import { makeNode, type TestNode } from "../../test/helpers/node.js";
import { studyBody } from "../../test/helpers/fixtures.js";
import { auditMessageXml, syslogMessage } from "../../test/helpers/audit-messages.js";
import { AuditIntake, type AuditPeer } from "./audit-intake.js";

const STUDY_UID = "1.2.826.0.1.3680043.8.498.77";
let t: TestNode;
let outcomes: string[];
const tcp: AuditPeer = { transport: "syslog-tcp", address: "::ffff:10.0.0.7" };

beforeEach(async () => {
  t = await makeNode();
  // The PACS: a system actor with the integration role whose key the node holds.
  const seed = crypto.randomBytes(32);
  const held = t.node.heldKeys.put("pacs-main", seed);
  await t.node.appender.append(
    t.sign(t.admin, "actor.enrolled", {
      actorId: "pacs-main",
      kind: "system",
      roles: ["integration"],
      publicKey: toBase64(held.publicKey),
      displayName: "Main PACS",
    }),
  );
  const patient = t.node.pseudonym("patient", "PAT-0001");
  await t.node.appender.append(
    t.sign(
      t.institution,
      "study.registered",
      studyBody(patient, { studyKey: t.node.pseudonym("study", STUDY_UID) }),
    ),
  );
  outcomes = [];
});
afterEach(() => t.close());

function intake(rawMessages: "vault" | "drop" = "vault"): AuditIntake {
  return new AuditIntake(t.node, {
    rawMessages,
    sources: new Map([["10.0.0.7", "pacs-main"]]),
    onOutcome: (transport, outcome) => outcomes.push(`${transport} ${outcome}`),
  });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isRadledgerError(e)) return e.code;
    throw e;
  }
  return "accepted";
}

test("an accepted message is an access.reported entry signed by the PACS: pseudonyms only, the raw message in the vault", async () => {
  const i = intake();
  const actor = i.identify(tcp);
  expect(actor).toBe("pacs-main");
  const xml = auditMessageXml({ studyUid: STUDY_UID });
  const raw = syslogMessage(xml);
  const [rec] = await i.receive(actor, tcp, xml, raw);
  const stored = t.node.store.entryByLeafHash(rec!.id)!;
  const text = fromUtf8(stored.bytes);
  const entry = JSON.parse(text) as { type: string; actor: string; body: Record<string, unknown> };
  expect(entry.type).toBe("access.reported");
  expect(entry.actor).toBe("pacs-main");
  const patient = t.node.pseudonym("patient", "PAT-0001");
  expect(entry.body).toMatchObject({
    patient,
    studies: [t.node.pseudonym("study", STUDY_UID)],
    event: {
      id: { code: "110103", system: "DCM" },
      action: "R",
      outcome: 0,
      time: "2026-12-07T21:15:30.123Z",
      purposes: [{ code: "TREAT" }],
    },
    participants: [
      { userId: "dr.house", requestor: true, networkAccessPoint: { id: "10.1.2.3", type: "2" } },
      { userId: "AE_PACS", requestor: false },
    ],
    source: { id: "PACS-MAIN", site: "Radiology" },
    transport: "syslog-tcp",
  });
  // Nothing identifying on the log: no patient number, UID, user's or patient's name.
  for (const secret of ["PAT-0001", STUDY_UID, "DOE", "Gregory House", "1.2.3.4"])
    expect(text).not.toContain(secret);
  // The commitment opens to the raw message, which the patient's vault holds.
  const kept = t.node.vault.get(entry.body.message as string)!;
  expect(kept.patient).toBe(patient);
  expect(kept.content).toEqual({ atna: raw });
  checkCommitment(crypto, entry.body.message as string, kept.salt, { atna: raw });
  expect(reportedAccesses(t.node.store, patient).map((r) => [r.reportedBy, r.index])).toEqual([
    ["pacs-main", rec!.index],
  ]);
  expect(outcomes).toEqual(["syslog-tcp recorded"]);
});

test("with raw messages dropped the commitment is on the log and nothing in the vault", async () => {
  const i = intake("drop");
  const xml = auditMessageXml();
  const [rec] = await i.receive("pacs-main", tcp, xml, syslogMessage(xml));
  const body = (
    JSON.parse(fromUtf8(t.node.store.entryByLeafHash(rec!.id)!.bytes)) as { body: { message: string } }
  ).body;
  expect(body.message).toMatch(/^[0-9a-f]{64}$/);
  expect(t.node.vault.get(body.message)).toBeUndefined();
});

test("refusals are coded and counted, and leave the log as it was", async () => {
  const i = intake();
  const size = t.node.ledger.size;
  const send = (xml: string) => refusal(i.receive("pacs-main", tcp, xml, xml));
  expect(await send(auditMessageXml({ patientId: "SOMEONE-ELSE" }))).toBe("AUDIT_MESSAGE_UNKNOWN_PATIENT");
  expect(await send(auditMessageXml({ noPatient: true }))).toBe("AUDIT_MESSAGE_NO_PATIENT");
  expect(await send("<AuditMessage><oops></AuditMessage>")).toBe("AUDIT_MESSAGE_MALFORMED");
  expect(await send("garbage")).toBe("AUDIT_MESSAGE_MALFORMED");
  expect(await send(auditMessageXml({ userId: "x".repeat(300) }))).toBe("AUDIT_MESSAGE_MALFORMED");
  expect(t.node.ledger.size).toBe(size);
  expect(outcomes).toEqual([
    "syslog-tcp AUDIT_MESSAGE_UNKNOWN_PATIENT",
    "syslog-tcp AUDIT_MESSAGE_NO_PATIENT",
    "syslog-tcp AUDIT_MESSAGE_MALFORMED",
    "syslog-tcp AUDIT_MESSAGE_MALFORMED",
    "syslog-tcp AUDIT_MESSAGE_MALFORMED",
  ]);
});

test("a study of another patient in the event is refused by the log (PATIENT_MISMATCH)", async () => {
  const other = t.node.pseudonym("patient", "PAT-0002");
  await t.node.appender.append(
    t.sign(
      t.institution,
      "study.registered",
      studyBody(other, { studyKey: t.node.pseudonym("study", "1.2.3.99") }),
    ),
  );
  // One event naming PAT-0001 and PAT-0002's study: the study is not PAT-0001's, so it is left out.
  const xml = auditMessageXml({ studyUid: "1.2.3.99" });
  const [rec] = await intake().receive("pacs-main", tcp, xml, xml);
  const body = (
    JSON.parse(fromUtf8(t.node.store.entryByLeafHash(rec!.id)!.bytes)) as { body: { studies?: unknown } }
  ).body;
  expect(body.studies).toBeUndefined();
  // Signed directly with that study, the append rule refuses it.
  const held = t.node.heldKeys.get("pacs-main")!;
  const bytes = t.sign(held, "access.reported", {
    patient: t.node.pseudonym("patient", "PAT-0001"),
    studies: [t.node.pseudonym("study", "1.2.3.99")],
    event: { id: { code: "110103" }, outcome: 0, time: "2026-12-07T21:15:30.123Z" },
    participants: [{ userId: "dr.house", requestor: true }],
    source: { id: "PACS-MAIN" },
    transport: "syslog-tcp",
    message: "0".repeat(64),
  });
  expect(await t.refusal(bytes)).toBe("PATIENT_MISMATCH");
});

test("who may report: a configured address or a bound certificate of an active integration system whose key the node holds", async () => {
  const i = intake();
  const code = (peer: AuditPeer): string => {
    try {
      return i.identify(peer);
    } catch (e) {
      return isRadledgerError(e) ? e.code : "crash";
    }
  };
  expect(code({ transport: "syslog-udp", address: "10.0.0.7" })).toBe("pacs-main");
  expect(code({ transport: "syslog-udp", address: "10.0.0.8" })).toBe("AUDIT_SOURCE_UNKNOWN");
  expect(code({ transport: "syslog-tls", address: "10.0.0.7" })).toBe("AUDIT_SOURCE_UNKNOWN");
  expect(code({ transport: "syslog-tls", address: "10.0.0.7", pin: "A".repeat(43) + "=" })).toBe(
    "AUDIT_SOURCE_UNKNOWN",
  );
  // A staff member cannot be a source, even if an address is mapped to them.
  await t.enrol("dr-house", ["radiologist"]);
  const staff = new AuditIntake(t.node, { sources: new Map([["10.0.0.9", "dr-house"]]) });
  expect(() => staff.identify({ transport: "syslog-tcp", address: "10.0.0.9" })).toThrow(
    /not an active system actor/,
  );
  const key = await t.enrol("pacs-own-key", ["integration"], { kind: "system" });
  const own = new AuditIntake(t.node, { sources: new Map([["10.0.0.10", "pacs-own-key"]]) });
  expect(() => own.identify({ transport: "syslog-tcp", address: "10.0.0.10" })).toThrow(/holds no key/);
  expect(key.actor).toBe("pacs-own-key");
});
