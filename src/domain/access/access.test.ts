import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JsonObject } from "../../core/canonical-json.js";
import type { EntryRefs } from "../../core/entry.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakeHash, fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import type { HeldKey } from "../../app/keys.js";
import { auditDataDir } from "../../wiring/audit.js";
import { nodeCrypto } from "../../adapters/node-crypto/crypto.js";
import { toHex } from "../../core/bytes.js";
import { leafHash } from "../../core/merkle/hash.js";
import { decide, type AccessQuery } from "../consent/decide.js";
import { accessRecordFor } from "./entries.js";
import { breakGlassReasons } from "./break-glass.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InlineVerifier } from "../../adapters/node-crypto/inline-verifier.js";
import { SqliteLogStore } from "../../adapters/sqlite/log-store.js";
import { openNode } from "../../wiring/node.js";
import { identityEnrolment } from "../identity/state.js";
import { createAppender } from "../ledger/appender.js";
import { auditLog } from "../ledger/audit.js";
import { Ledger } from "../ledger/ledger.js";
import { createRegistry } from "../registry.js";
import { accessesByActor, accessHistory, breakGlassQueue, requireAccess } from "./queries.js";

let t: TestNode;
let patient: string;
let study: string;
let series: string;
let pt: HeldKey;
let auditor: HeldKey;

beforeEach(async () => {
  t = await makeNode();
  patient = fakePseudonym();
  pt = await t.enrol("pt-actor-1", ["patient"], { patient });
  await t.enrol("rad-1", ["radiologist"], { displayName: "Dr Rad" });
  await t.enrol("cur-1", ["curator"]);
  auditor = await t.enrol("aud-1", ["auditor"], { displayName: "A. Auditor" });
  const body = studyBody(patient);
  study = await admit(t.sign(t.institution, "study.registered", body));
  series = (body.series as { seriesKey: string }[])[0]!.seriesKey;
});
afterEach(async () => t.close());

async function admit(bytes: Uint8Array): Promise<string> {
  return (await t.node.appender.append(bytes)).leafHash;
}

const now = (): string => new Date().toISOString();

function query(overrides: Partial<AccessQuery> = {}): AccessQuery {
  return {
    actor: "rad-1",
    patient,
    part: { kind: "study", id: study },
    purpose: "TREAT",
    time: now(),
    ...overrides,
  };
}

/** The gatekeeper: decide, then sign the record of the decision with the institution key. */
function gatekeeper(q: AccessQuery, action: "read" | "export" | "download" | "print" = "read"): Uint8Array {
  const d = decide(t.node.store, q);
  const breaksGlass = d.decision === "permit" && d.basis.kind === "break-glass";
  const { body, refs } = accessRecordFor(q, action, d, breaksGlass ? { reasonCommitment: fakeHash() } : {});
  return t.sign(t.institution, "access.recorded", body, refs);
}

const record = (body: JsonObject, refs?: EntryRefs, key: HeldKey = t.institution): Uint8Array =>
  t.sign(key, "access.recorded", body, refs);

function recordBody(overrides: JsonObject = {}): JsonObject {
  return {
    actor: "rad-1",
    patient,
    part: { kind: "study", id: study },
    action: "read",
    purpose: "TREAT",
    decision: "permit",
    ...overrides,
  };
}

const grantTo = (actor: string, overrides: JsonObject = {}): Promise<string> =>
  admit(
    t.sign(pt, "consent.granted", {
      patient,
      grantee: { kind: "actor", id: actor },
      scope: { kind: "all-imaging" },
      purposes: ["TREAT"],
      period: { start: "2020-01-01T00:00:00.000Z" },
      ...overrides,
    }),
  );

const careFor = (actor: string, forPatient = patient): Promise<string> =>
  admit(
    t.sign(t.admin, "care.assigned", {
      patient: forPatient,
      actor,
      period: { start: "2020-01-01T00:00:00.000Z" },
    }),
  );

describe("access.recorded", () => {
  test("the gatekeeper records permits with their basis and denies with their reason; history shows who, when, what, why", async () => {
    const grant = await grantTo("rad-1");
    const permit = await admit(gatekeeper(query()));
    expect(requireAccess(t.node.store, permit)).toMatchObject({
      decision: "permit",
      basis: { kind: "consent", grant },
    });
    const deny = await admit(gatekeeper(query({ actor: "cur-1", purpose: "HRESCH" }), "export"));
    expect(requireAccess(t.node.store, deny)).toMatchObject({
      decision: "deny",
      reason: "no-grant",
      action: "export",
    });
    const own = await admit(gatekeeper(query({ actor: "pt-actor-1", purpose: "PATRQT" })));

    const history = accessHistory(t.node.store, patient);
    expect(history.items.map((a) => a.id)).toEqual([own, deny, permit]); // newest first
    expect(history.items[2]).toMatchObject({
      who: { actor: "rad-1", displayName: "Dr Rad", kind: "staff", roles: ["radiologist"] },
      part: { kind: "study", id: study },
      action: "read",
      purpose: "TREAT",
      decision: "permit",
      basis: { kind: "consent", grant },
    });
    expect(history.items[0]!.who).toEqual({ actor: "pt-actor-1", kind: "patient", roles: ["patient"] });
    expect(history.items[2]!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    const first = accessHistory(t.node.store, patient, { limit: 2, oldestFirst: true });
    expect(first.items.map((a) => a.id)).toEqual([permit, deny]);
    expect(
      accessHistory(t.node.store, patient, { after: first.next!, oldestFirst: true }).items.map((a) => a.id),
    ).toEqual([own]);
    expect(
      accessHistory(t.node.store, patient, { limit: 1, after: history.items[0]!.index }).items.map(
        (a) => a.id,
      ),
    ).toEqual([deny]);
    expect(accessesByActor(t.node.store, "cur-1").items.map((a) => a.id)).toEqual([deny]);
    expect(accessesByActor(t.node.store, "rad-1").items.map((a) => a.id)).toEqual([permit]);

    // The projection is a pure function of the log: a replay from scratch gives the same rows.
    await t.node.ledger.idle();
    expect((await auditDataDir(t.dir, { threads: 0 })).ok).toBe(true);
  });

  test("only the institution key (the gatekeeper) records accesses", async () => {
    await grantTo("rad-1");
    const { body, refs } = accessRecordFor(query(), "read", decide(t.node.store, query()));
    expect(await t.refusal(record(body, refs, t.admin))).toBe("ROLE_NOT_PERMITTED");
    const rad = await t.enrol("rad-2", ["radiologist"]);
    expect(await t.refusal(record(body, refs, rad))).toBe("ROLE_NOT_PERMITTED");
  });

  test("a permit records a basis and a deny none; consent and care, and only they, carry their reference", async () => {
    const grant = await grantTo("rad-1");
    const care = await careFor("rad-1");
    expect(await t.refusal(record(recordBody()))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(record(recordBody({ basis: { kind: "consent" } })))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(record(recordBody({ basis: { kind: "care" } }), { grant }))).toBe(
      "ACCESS_BASIS_INVALID",
    );
    expect(await t.refusal(record(recordBody({ basis: { kind: "consent" } }), { grant, care }))).toBe(
      "ACCESS_BASIS_INVALID",
    );
    expect(await t.refusal(record(recordBody({ basis: { kind: "consent" }, reason: "x" }), { grant }))).toBe(
      "ACCESS_BASIS_INVALID",
    );
    expect(
      await t.refusal(
        record(recordBody({ decision: "deny", basis: { kind: "care" }, reason: "no-grant" }), { care }),
      ),
    ).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(record(recordBody({ decision: "deny" })))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(record(recordBody({ decision: "deny", reason: "no-grant" }), { grant }))).toBe(
      "ACCESS_BASIS_INVALID",
    );
    expect(await t.refusal(record(recordBody({ basis: { kind: "consent" } }), { grant: study }))).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );
    await admit(record(recordBody({ basis: { kind: "consent" } }), { grant }));
    await admit(record(recordBody({ basis: { kind: "care" } }), { care }));
    // A deny needs no enrolled actor: failed attempts are recorded too.
    await admit(record(recordBody({ actor: "unknown-user", decision: "deny", reason: "not-authenticated" })));
  });

  test("a deny's reason is a code of the deny reason value set, never free text in a code", async () => {
    const deny = (reason: string): Uint8Array => record(recordBody({ decision: "deny", reason }));
    for (const reason of ["because-i-said-so", "asked-by-phone"])
      expect(await t.refusal(deny(reason)), reason).toBe("ENTRY_SCHEMA_INVALID");
    for (const reason of [
      "no-grant",
      "revoked",
      "break-glass-not-permitted",
      "not-own-record",
      "role-not-permitted",
    ])
      await admit(deny(reason));
  });

  test("a consent basis must be a grant of this patient that permits this access now", async () => {
    const grant = await grantTo("rad-1", { purposes: ["HRESCH"] });
    const consent = (o: JsonObject): Uint8Array =>
      record(recordBody({ basis: { kind: "consent" }, ...o }), { grant });
    expect(await t.refusal(consent({}))).toBe("ACCESS_BASIS_INVALID"); // purpose TREAT not granted
    expect(await t.refusal(consent({ purpose: "HRESCH", actor: "cur-1" }))).toBe("ACCESS_BASIS_INVALID");
    await admit(consent({ purpose: "HRESCH" }));
    const expired = await grantTo("rad-1", {
      period: { start: "2020-01-01T00:00:00.000Z", end: "2021-01-01T00:00:00.000Z" },
    });
    expect(await t.refusal(record(recordBody({ basis: { kind: "consent" } }), { grant: expired }))).toBe(
      "ACCESS_BASIS_INVALID",
    );
    await admit(t.sign(pt, "consent.revoked", {}, { grant }));
    expect(await t.refusal(consent({ purpose: "HRESCH" }))).toBe("ACCESS_BASIS_INVALID");
    const otherPatient = await admit(
      t.sign(t.admin, "consent.granted", {
        patient: fakePseudonym(),
        grantee: { kind: "actor", id: "rad-1" },
        scope: { kind: "all-imaging" },
        purposes: ["TREAT"],
        period: { start: "2020-01-01T00:00:00.000Z" },
        onBehalf: { documentCommitment: fakeHash(), reason: "paper-form" },
      }),
    );
    expect(await t.refusal(record(recordBody({ basis: { kind: "consent" } }), { grant: otherPatient }))).toBe(
      "PATIENT_MISMATCH",
    );
  });

  test("a care basis must be a current relationship of this actor with this patient, for TREAT", async () => {
    const care = await careFor("rad-1");
    const other = await careFor("rad-1", fakePseudonym());
    const byCare = (o: JsonObject, ref = care): Uint8Array =>
      record(recordBody({ basis: { kind: "care" }, ...o }), { care: ref });
    expect(await t.refusal(byCare({ actor: "cur-1" }))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(byCare({ purpose: "HRESCH" }))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(byCare({}, other))).toBe("PATIENT_MISMATCH");
    await admit(byCare({ part: { kind: "series", id: series, study } }));
    await admit(t.sign(t.admin, "care.ended", {}, { care }));
    expect(await t.refusal(byCare({}))).toBe("ACCESS_BASIS_INVALID");
  });

  test("a patient basis is the patient's own actor", async () => {
    await admit(record(recordBody({ actor: "pt-actor-1", purpose: "PATRQT", basis: { kind: "patient" } })));
    expect(await t.refusal(record(recordBody({ basis: { kind: "patient" } })))).toBe("ACCESS_BASIS_INVALID");
    const other = await t.enrol("pt-actor-2", ["patient"], { patient: fakePseudonym() });
    expect(await t.refusal(record(recordBody({ actor: other.actor, basis: { kind: "patient" } })))).toBe(
      "ACCESS_BASIS_INVALID",
    );
  });

  test("the part must belong to the patient and to the study it names", async () => {
    await grantTo("rad-1");
    const strangers = await admit(t.sign(t.institution, "study.registered", studyBody()));
    const deny = { decision: "deny", reason: "part-not-of-patient" };
    expect(await t.refusal(record(recordBody({ ...deny, part: { kind: "study", id: strangers } })))).toBe(
      "PATIENT_MISMATCH",
    );
    const otherSeries = "se_" + fakePseudonym().slice(3);
    expect(
      await t.refusal(record(recordBody({ ...deny, part: { kind: "series", id: otherSeries, study } }))),
    ).toBe("ACCESS_PART_INVALID");
    expect(
      await t.refusal(
        record(recordBody({ ...deny, part: { kind: "series", id: "1.2.840.10008.5.1", study } })),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    await admit(record(recordBody({ ...deny, part: { kind: "report", id: fakeHash(), study } })));
  });

  test("a study registered earlier in the same batch is checked like a committed one", async () => {
    await grantTo("rad-1");
    const registration = t.sign(t.institution, "study.registered", studyBody());
    const strangers = toHex(leafHash(nodeCrypto, registration));
    const deny = { decision: "deny", reason: "part-not-of-patient" };
    const [registered, recorded] = await t.node.appender.appendAll([
      registration,
      record(recordBody({ ...deny, part: { kind: "study", id: strangers } })),
    ]);
    expect(registered).toMatchObject({ ok: true, leafHash: strangers });
    expect(recorded).toMatchObject({ ok: false, error: { code: "PATIENT_MISMATCH" } });
  });
});

describe("break-glass and its review", () => {
  const emergency = (): AccessQuery =>
    query({ purpose: "ETREAT", breakGlass: { reason: "patient-unable-to-consent" } });

  test("a break-glass permit enters the review queue; an auditor closes it", async () => {
    const q = emergency();
    const d = decide(t.node.store, q);
    expect(d).toMatchObject({ decision: "permit", review: true });
    const commitment = fakeHash();
    const { body, refs } = accessRecordFor(q, "read", d, { reasonCommitment: commitment });
    const access = await admit(record(body, refs));
    await admit(gatekeeper(query({ actor: "cur-1", purpose: "HRESCH" }))); // a deny: not queued
    expect(breakGlassQueue(t.node.store).items).toMatchObject([
      {
        id: access,
        who: { actor: "rad-1" },
        basis: { kind: "break-glass", reason: "patient-unable-to-consent", reasonCommitment: commitment },
        review: { open: true },
      },
    ]);
    const note = fakeHash();
    const review = await admit(
      t.sign(auditor, "access.reviewed", { outcome: "justified", noteCommitment: note }, { access }),
    );
    expect(breakGlassQueue(t.node.store).items).toEqual([]);
    expect(requireAccess(t.node.store, access).review).toMatchObject({
      open: false,
      outcome: "justified",
      by: "aud-1",
      id: review,
      noteCommitment: note,
    });
    expect(await t.refusal(t.sign(auditor, "access.reviewed", { outcome: "unjustified" }, { access }))).toBe(
      "ACCESS_ALREADY_REVIEWED",
    );
  });

  test("break-glass needs clinical staff, ETREAT and the clinical record", async () => {
    const basis = { kind: "break-glass", reason: "urgent-clinical-need", reasonCommitment: fakeHash() };
    const bg = (o: JsonObject): Uint8Array => record(recordBody({ purpose: "ETREAT", basis, ...o }));
    expect(await t.refusal(bg({ actor: "cur-1" }))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(bg({ purpose: "TREAT" }))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(bg({ part: { kind: "dataset", id: fakeHash() } }))).toBe("ACCESS_BASIS_INVALID");
    expect(await t.refusal(bg({ actor: "nobody" }))).toBe("ACCESS_BASIS_INVALID");
    expect(
      await t.refusal(
        record(recordBody({ purpose: "ETREAT", basis: { kind: "break-glass", reason: "free text here" } })),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    await admit(bg({}));
  });

  test("only auditors review, only break-glass permits, never their own", async () => {
    const access = await admit(gatekeeper(emergency()));
    const rad = await t.enrol("rad-2", ["radiologist"]);
    expect(await t.refusal(t.sign(rad, "access.reviewed", { outcome: "justified" }, { access }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    const ordinary = await admit(gatekeeper(query({ actor: "cur-1" })));
    expect(
      await t.refusal(t.sign(auditor, "access.reviewed", { outcome: "justified" }, { access: ordinary })),
    ).toBe("ACCESS_NOT_BREAK_GLASS");
    expect(await t.refusal(t.sign(auditor, "access.reviewed", { outcome: "fine" }, { access }))).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    // A clinician who is also an auditor cannot close their own emergency access.
    const both = await t.enrol("cli-aud", ["clinician", "auditor"]);
    const own = await admit(
      gatekeeper(
        query({ actor: "cli-aud", purpose: "ETREAT", breakGlass: { reason: "urgent-clinical-need" } }),
      ),
    );
    expect(await t.refusal(t.sign(both, "access.reviewed", { outcome: "justified" }, { access: own }))).toBe(
      "ACCESS_SELF_REVIEW",
    );
    await admit(t.sign(both, "access.reviewed", { outcome: "escalated" }, { access }));
    expect(breakGlassQueue(t.node.store).items.map((a) => a.id)).toEqual([own]);
  });

  test("at append: the reason is a code of the value set and the justification's commitment is required", async () => {
    await t.enrol("tech-1", ["technologist"]);
    const bg = (basis: JsonObject, o: JsonObject = {}): Uint8Array =>
      record(recordBody({ purpose: "ETREAT", basis: { kind: "break-glass", ...basis }, ...o }));
    const justified = { reasonCommitment: fakeHash() };
    // A short code that is not in the value set carries no meaning an auditor can rely on.
    for (const reason of ["because-i-want", "curious", "unconscious-patient"])
      expect(await t.refusal(bg({ reason, ...justified })), reason).toBe("ENTRY_SCHEMA_INVALID");
    // No justification: refused, whatever the code.
    expect(await t.refusal(bg({ reason: "urgent-clinical-need" }))).toBe("ACCESS_BASIS_INVALID");
    // Roles per policy: technologists are not in the default (radiologist, clinician).
    expect(await t.refusal(bg({ reason: "urgent-clinical-need", ...justified }, { actor: "tech-1" }))).toBe(
      "ACCESS_BASIS_INVALID",
    );
    expect(decide(t.node.store, query({ ...emergency(), actor: "tech-1" }))).toEqual({
      decision: "deny",
      reason: "break-glass-not-permitted",
    });
    for (const reason of breakGlassReasons.values) await admit(bg({ reason, ...justified }));
  });

  test("the roles that may break the glass come from the node's configuration, checked at start", async () => {
    await t.enrol("tech-1", ["technologist"]);
    const config = JSON.parse(readFileSync(join(t.dir, "config.json"), "utf8")) as JsonObject;
    const configure = (roles: unknown): void =>
      writeFileSync(join(t.dir, "config.json"), JSON.stringify({ ...config, breakGlassRoles: roles }));
    configure(["radiologist", "clinician", "technologist"]);
    await t.reopen();
    expect(t.node.policy.breakGlassRoles).toEqual(["radiologist", "clinician", "technologist"]);
    const q = query({ ...emergency(), actor: "tech-1" });
    expect(decide(t.node.store, q, t.node.policy)).toMatchObject({ decision: "permit", review: true });
    const d = decide(t.node.store, q, t.node.policy);
    await admit(record(accessRecordFor(q, "read", d, { reasonCommitment: fakeHash() }).body));
    // Back to the default: the technologist's next break-glass is refused at append.
    configure(["radiologist", "clinician"]);
    await t.reopen();
    expect(decide(t.node.store, q, t.node.policy)).toMatchObject({ decision: "deny" });
    expect(
      await t.refusal(record(accessRecordFor(q, "read", d, { reasonCommitment: fakeHash() }).body)),
    ).toBe("ACCESS_BASIS_INVALID");
    // The whole-log audit replays the technologist's permit admitted under the earlier policy.
    expect(await auditDataDir(t.dir, { threads: 0 })).toMatchObject({ ok: true });
    // Not clinical roles, an empty list, repeats, not a list: the node does not start (the check
    // comes before the writer lock, which this open node holds).
    for (const bad of [
      ["admin"],
      ["auditor", "radiologist"],
      [],
      ["radiologist", "radiologist"],
      "radiologist",
    ]) {
      configure(bad);
      expect(() => openNode(t.dir, { verifyThreads: 0 }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID" }) as Error,
      );
    }
  });

  test("a log written before the value sets keeps replaying; the same entries are refused as new appends", async () => {
    await t.enrol("tech-1", ["technologist"]);
    // What an earlier version admitted: a free reason code, no justification, a technologist, and
    // an erasure with a code outside today's value set.
    const legacy = [
      record(
        recordBody({
          actor: "tech-1",
          purpose: "ETREAT",
          basis: { kind: "break-glass", reason: "unconscious-patient" },
        }),
      ),
      t.sign(t.admin, "patient.data.erased", { patient: fakePseudonym(), reason: "asked-by-phone" }),
    ];
    expect(await t.refusal(legacy[0]!)).toBe("ENTRY_SCHEMA_INVALID");
    expect(await t.refusal(legacy[1]!)).toBe("ENTRY_SCHEMA_INVALID");

    // The old log: this node's entries and the legacy ones, as that version stored them (admitted
    // here by a ledger in replay mode, which applies the rules of their time).
    const dir = mkdtempSync(join(tmpdir(), "radledger-legacy-"));
    const registry = createRegistry();
    const verifier = new InlineVerifier(nodeCrypto, registry);
    const store = new SqliteLogStore(join(dir, "old.sqlite"));
    const scratch = new SqliteLogStore(join(dir, "scratch.sqlite"));
    try {
      const old = new Ledger({
        origin: t.node.config.origin,
        crypto: nodeCrypto,
        store,
        verifier,
        registry,
        enrolment: identityEnrolment,
        logPublicKey: t.node.logKey.publicKey,
        logSigner: t.node.logKey,
        clock: { now: () => Date.now() },
        replay: true,
      });
      const current = t.node.store.readEntries(0, t.node.ledger.size).map((e) => e.bytes);
      const results = await createAppender((e, p) => old.append(e, p)).appendAll([...current, ...legacy]);
      expect(results.every((r) => r.ok)).toBe(true);
      await old.idle();
      const legacyDoc = breakGlassQueue(store).items.at(-1)!;
      expect(legacyDoc).toMatchObject({ basis: { kind: "break-glass", reason: "unconscious-patient" } });
      // The whole-log audit replays it into a scratch store and finds everything equal.
      const report = await auditLog({
        origin: t.node.config.origin,
        crypto: nodeCrypto,
        registry,
        enrolment: identityEnrolment,
        store,
        scratch,
        verifier,
        trustedLogKeys: [t.node.logKey.publicKey],
      });
      expect(report).toMatchObject({ ok: true, entries: current.length + legacy.length });
      await old.close();
    } finally {
      store.close();
      scratch.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
