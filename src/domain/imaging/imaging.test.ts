import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { RadledgerError } from "../../core/errors.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import { listStudies, studiesOfPatient, studyRecord } from "./queries.js";
import { nodeCrypto } from "../../adapters/node-crypto/crypto.js";
import { pseudonym } from "../privacy/pseudonyms.js";

let t: TestNode;
beforeEach(async () => {
  t = await makeNode();
});
afterEach(async () => t.close());

async function code(bytes: Uint8Array): Promise<string> {
  const [r] = await t.node.appender.appendAll([bytes]);
  return r!.ok ? "ok" : (r as { error: RadledgerError }).error.code;
}

describe("imaging: study.registered", () => {
  test("a technologist or the institution registers a study; the projection answers by id and patient", async () => {
    const tech = await t.enrol("tech-1", ["technologist"]);
    const patient = fakePseudonym();
    const a = await t.node.appender.append(t.sign(tech, "study.registered", studyBody(patient)));
    await t.node.appender.append(t.sign(t.institution, "study.registered", studyBody(patient)));
    expect(studiesOfPatient(t.node.store, patient).items).toHaveLength(2);
    expect(listStudies(t.node.store, { limit: 1 })).toMatchObject({
      items: [{ id: a.leafHash }],
      next: a.index,
    });
    expect(studyRecord(t.node.store, a.leafHash)).toMatchObject({
      study: { patient, modalities: ["MR"], instanceCount: 5 },
      referencedBy: [],
    });
  });

  test("registration is idempotent by study key: the same study twice is refused", async () => {
    const body = studyBody();
    expect(await code(t.sign(t.institution, "study.registered", body))).toBe("ok");
    expect(
      await code(t.sign(t.institution, "study.registered", { ...body, manifestRoot: "0".repeat(64) })),
    ).toBe("STUDY_ALREADY_REGISTERED");
  });

  test("a radiologist may not register; inconsistent counts and raw identifiers are refused", async () => {
    const rad = await t.enrol("rad-1", ["radiologist"]);
    expect(await code(t.sign(rad, "study.registered", studyBody()))).toBe("ROLE_NOT_PERMITTED");
    expect(
      await code(t.sign(t.institution, "study.registered", studyBody(undefined, { instanceCount: 4 }))),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(await code(t.sign(t.institution, "study.registered", studyBody("12345678")))).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    expect(
      await code(
        t.sign(
          t.institution,
          "study.registered",
          studyBody(undefined, { studyKey: "1.2.840.113619.2.55.3.604688119" }),
        ),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(
      await code(
        t.sign(t.institution, "study.registered", studyBody(undefined, { patientName: "DOE^JANE" })),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
  });
});

describe("pseudonyms", () => {
  test("stable under one secret, different under another and per kind", () => {
    const s1 = new Uint8Array(32).fill(1);
    const s2 = new Uint8Array(32).fill(2);
    const p = pseudonym(nodeCrypto, s1, "patient", "MRN-0001");
    expect(p).toMatch(/^pt_[A-Za-z0-9_-]{43}$/);
    expect(pseudonym(nodeCrypto, s1, "patient", "MRN-0001")).toBe(p);
    expect(pseudonym(nodeCrypto, s2, "patient", "MRN-0001")).not.toBe(p);
    expect(pseudonym(nodeCrypto, s1, "study", "MRN-0001").slice(3)).not.toBe(p.slice(3));
  });
});
