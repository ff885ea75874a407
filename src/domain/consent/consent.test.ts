/**
 * Consent and care rules checked at append time: who may grant, revoke and record care, and what
 * (docs/families/consent.md).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JsonObject } from "../../core/canonical-json.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakeHash, fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import { consentKit, grantBody, onBehalf, q, T2020, T2025, T2026 } from "../../../test/helpers/consent.js";
import { decide } from "./decide.js";
import { careOfPatient, grantsOfPatient, grantsToGrantee, requireGrant } from "./queries.js";

let t: TestNode;
const { refusal, admit, world } = consentKit(() => t);

describe("consent rules at append time", () => {
  beforeEach(async () => {
    t = await makeNode();
  });
  afterEach(async () => t.close());

  test("a patient grants with their own key; the grant is projected by patient and grantee", async () => {
    const w = await world();
    const id = await admit(t.sign(w.pt, "consent.granted", grantBody(w.patient)));
    const [grant] = grantsOfPatient(t.node.store, w.patient, { at: T2025 });
    expect(grant).toMatchObject({
      id,
      patient: w.patient,
      scope: "all-imaging",
      grantedBy: "pt-actor-1",
      status: "active",
    });
    expect(grant!.onBehalf).toBeUndefined();
    expect(grantsToGrantee(t.node.store, "actor", "rad-1").map((g) => g.id)).toEqual([id]);
    expect(grantsOfPatient(t.node.store, w.patient, { at: "2019-01-01T00:00:00.000Z" })[0]!.status).toBe(
      "pending",
    );
  });

  test("a patient cannot grant for another patient, nor claim to act on someone's behalf", async () => {
    const w = await world();
    expect(await refusal(t.sign(w.pt, "consent.granted", grantBody(fakePseudonym())))).toBe(
      "CONSENT_NOT_PATIENT",
    );
    expect(
      await refusal(t.sign(w.pt, "consent.granted", grantBody(w.patient, { onBehalf: onBehalf() }))),
    ).toBe("ENTRY_SCHEMA_INVALID");
  });

  test("the institution grants only on the patient's documented request, recorded as such", async () => {
    const w = await world();
    expect(await refusal(t.sign(t.admin, "consent.granted", grantBody(w.patient)))).toBe(
      "CONSENT_NOT_PATIENT",
    );
    expect(await refusal(t.sign(t.institution, "consent.granted", grantBody(w.patient)))).toBe(
      "CONSENT_NOT_PATIENT",
    );
    const request = onBehalf();
    const id = await admit(t.sign(t.admin, "consent.granted", grantBody(w.patient, { onBehalf: request })));
    expect(requireGrant(t.node.store, id)).toMatchObject({ grantedBy: "admin", onBehalf: request });
    // A patient without a key of their own is served the same way.
    await admit(
      t.sign(t.institution, "consent.granted", grantBody(fakePseudonym(), { onBehalf: onBehalf() })),
    );
  });

  test("clinical staff cannot grant consent", async () => {
    const w = await world();
    expect(
      await refusal(t.sign(w.rad, "consent.granted", grantBody(w.patient, { onBehalf: onBehalf() }))),
    ).toBe("ROLE_NOT_PERMITTED");
  });

  test("study scopes name a study of the same patient; other scopes name none", async () => {
    const w = await world();
    const other = await admit(t.sign(t.institution, "study.registered", studyBody()));
    const studyScope = grantBody(w.patient, { scope: { kind: "study" } });
    expect(await refusal(t.sign(w.pt, "consent.granted", studyScope))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(t.sign(w.pt, "consent.granted", studyScope, { study: other }))).toBe(
      "PATIENT_MISMATCH",
    );
    expect(await refusal(t.sign(w.pt, "consent.granted", grantBody(w.patient), { study: w.study }))).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    const id = await admit(t.sign(w.pt, "consent.granted", studyScope, { study: w.study }));
    expect(requireGrant(t.node.store, id)).toMatchObject({ scope: "study", study: w.study });
    const grant = await admit(t.sign(w.pt, "consent.granted", grantBody(w.patient)));
    expect(await refusal(t.sign(w.pt, "consent.granted", studyScope, { study: grant }))).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );
  });

  test("a grant to an actor names an enrolled actor; bodies are validated", async () => {
    const w = await world();
    const g = (o: JsonObject): Uint8Array => t.sign(w.pt, "consent.granted", grantBody(w.patient, o));
    expect(await refusal(g({ grantee: { kind: "actor", id: "nobody" } }))).toBe("ACTOR_UNKNOWN");
    expect(await refusal(g({ grantee: { kind: "trial", id: "NCT0001" } }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ grantee: { kind: "institution", id: "has space" } }))).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    expect(await refusal(g({ purposes: ["TREAT", "TREAT"] }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ purposes: ["SPYING"] }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ purposes: [] }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ period: { start: T2026, end: T2025 } }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ period: { start: "2026-01-01" } }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ scope: { kind: "everything" } }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(g({ patientName: "DOE^JANE" }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refusal(t.sign(w.pt, "consent.granted", grantBody("MRN-12345")))).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    await admit(g({ grantee: { kind: "trial", id: fakeHash() }, purposes: ["CLINTRL", "CLINTRCH"] }));
    await admit(g({ grantee: { kind: "institution", id: "radledger.other-hospital.example/log" } }));
  });

  test("the patient revokes at once; the grant stays in history; a second revocation is refused", async () => {
    const w = await world();
    const grant = await admit(t.sign(w.pt, "consent.granted", grantBody(w.patient)));
    expect(decide(t.node.store, q(w))).toMatchObject({
      decision: "permit",
      basis: { kind: "consent", grant },
    });
    const revocation = await admit(t.sign(w.pt, "consent.revoked", { reason: "patient-request" }, { grant }));
    expect(decide(t.node.store, q(w))).toEqual({ decision: "deny", reason: "revoked" });
    expect(grantsOfPatient(t.node.store, w.patient, { at: T2025 })).toMatchObject([
      {
        id: grant,
        status: "revoked",
        revoked: { id: revocation, by: "pt-actor-1", reason: "patient-request" },
      },
    ]);
    expect(await refusal(t.sign(w.pt, "consent.revoked", {}, { grant }))).toBe("GRANT_ALREADY_REVOKED");
  });

  test("only the patient, or the institution on their documented request, revokes", async () => {
    const w = await world();
    const grant = await admit(t.sign(w.pt, "consent.granted", grantBody(w.patient)));
    const otherPatient = await t.enrol("pt-actor-2", ["patient"], { patient: fakePseudonym() });
    expect(await refusal(t.sign(otherPatient, "consent.revoked", {}, { grant }))).toBe("CONSENT_NOT_PATIENT");
    expect(await refusal(t.sign(t.admin, "consent.revoked", {}, { grant }))).toBe("CONSENT_NOT_PATIENT");
    expect(await refusal(t.sign(w.rad, "consent.revoked", { onBehalf: onBehalf() }, { grant }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(await refusal(t.sign(t.admin, "consent.revoked", {}, { grant: w.study }))).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );
    await admit(t.sign(t.admin, "consent.revoked", { onBehalf: onBehalf() }, { grant }));
    expect(requireGrant(t.node.store, grant).revoked).toMatchObject({
      by: "admin",
      onBehalf: { reason: "paper-form" },
    });
  });

  test("care relationships: recorded by the institution, an admin or a clinician for someone else", async () => {
    const w = await world();
    const cli = await t.enrol("cli-1", ["clinician"]);
    await t.enrol("cli-2", ["clinician"]);
    const care = (actor: string): JsonObject => ({
      patient: w.patient,
      actor,
      relationship: "attending",
      period: { start: T2020 },
    });
    await admit(t.sign(t.admin, "care.assigned", care("cli-1")));
    await admit(t.sign(t.institution, "care.assigned", care("rad-1")));
    await admit(t.sign(cli, "care.assigned", care("cli-2")));
    expect(await refusal(t.sign(cli, "care.assigned", care("cli-1")))).toBe("ROLE_NOT_PERMITTED");
    expect(await refusal(t.sign(w.rad, "care.assigned", care("cli-1")))).toBe("ROLE_NOT_PERMITTED");
    expect(await refusal(t.sign(w.pt, "care.assigned", care("cli-1")))).toBe("ROLE_NOT_PERMITTED");
    expect(await refusal(t.sign(t.admin, "care.assigned", care("nobody")))).toBe("ACTOR_UNKNOWN");
    expect(await refusal(t.sign(t.admin, "care.assigned", care("pt-actor-1")))).toBe("ACTOR_UNKNOWN");
    expect(careOfPatient(t.node.store, w.patient).map((c) => c.actor)).toEqual(["cli-1", "rad-1", "cli-2"]);
  });

  test("a care relationship ends once", async () => {
    const w = await world();
    const care = await admit(
      t.sign(t.admin, "care.assigned", { patient: w.patient, actor: "rad-1", period: { start: T2020 } }),
    );
    await admit(t.sign(t.admin, "care.ended", { reason: "discharged" }, { care }));
    expect(careOfPatient(t.node.store, w.patient)[0]!.ended).toMatchObject({
      by: "admin",
      reason: "discharged",
    });
    expect(await refusal(t.sign(t.admin, "care.ended", {}, { care }))).toBe("CARE_ALREADY_ENDED");
  });
});
