/**
 * Privacy family: the erasure record (who may sign it, once per patient, its projection, rebuilt by
 * verify), content commitments and keyed pseudonyms (docs/families/privacy.md).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../adapters/node-crypto/crypto.js";
import { RadledgerError } from "../../core/errors.js";
import { auditDataDir } from "../../wiring/audit.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakePseudonym } from "../../../test/helpers/fixtures.js";
import { checkCommitment, commitmentOf, SALT_BYTES } from "./commitments.js";
import { pseudonym } from "./pseudonyms.js";

let t: TestNode;

describe("privacy: patient.data.erased", () => {
  beforeEach(async () => {
    t = await makeNode();
  });
  afterEach(async () => t.close());

  test("the institution or an admin records an erasure; it is projected by patient and rebuilt by verify", async () => {
    const a = fakePseudonym();
    const b = fakePseudonym();
    const first = await t.node.appender.append(
      t.sign(t.institution, "patient.data.erased", { patient: a, reason: "patient-request" }),
    );
    const second = await t.node.appender.append(
      t.sign(t.admin, "patient.data.erased", { patient: b, reason: "retention-expired" }),
    );
    expect(t.node.store.getDoc("erasure", a)).toMatchObject({
      id: first.leafHash,
      index: first.index,
      by: "institution",
      reason: "patient-request",
    });
    expect(t.node.store.getDoc("erasure", b)).toMatchObject({ id: second.leafHash, by: "admin" });
    expect(t.node.store.lookupValues("erasure.all", "")).toEqual([a, b]);

    // The projection is a pure function of the log: a replay from scratch gives the same rows.
    await t.node.ledger.idle();
    expect(await auditDataDir(t.dir, { threads: 0 })).toMatchObject({ ok: true });
  });

  test("only the institution and admins sign it, once per patient, with a reason code", async () => {
    const rad = await t.enrol("rad-1", ["radiologist"]);
    const patient = fakePseudonym();
    expect(await t.refusal(t.sign(rad, "patient.data.erased", { patient, reason: "patient-request" }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    await t.node.appender.append(
      t.sign(t.institution, "patient.data.erased", { patient, reason: "patient-request" }),
    );
    expect(await t.refusal(t.sign(t.admin, "patient.data.erased", { patient, reason: "other" }))).toBe(
      "PATIENT_ALREADY_ERASED",
    );
    expect(
      await t.refusal(
        t.sign(t.admin, "patient.data.erased", { patient: fakePseudonym(), reason: "asked by phone" }),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(
      await t.refusal(
        t.sign(t.admin, "patient.data.erased", { patient: "MRN-12345", reason: "patient-request" }),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
  });
});

describe("privacy: commitments and pseudonyms", () => {
  test("a commitment opens only with its salt and content", () => {
    const salt = crypto.randomBytes(SALT_BYTES);
    const content = { impression: "no acute findings" };
    const c = commitmentOf(crypto, salt, content);
    expect(c).toMatch(/^[0-9a-f]{64}$/);
    expect(() => checkCommitment(crypto, c, salt, content)).not.toThrow();
    expect(() => checkCommitment(crypto, c, salt, { impression: "acute findings" })).toThrow(
      expect.objectContaining({ code: "COMMITMENT_MISMATCH" }) as Error,
    );
    expect(() => commitmentOf(crypto, crypto.randomBytes(16), content)).toThrow(RadledgerError);
  });

  test("pseudonyms are keyed, stable, prefixed by kind and domain-separated", () => {
    const secret = crypto.randomBytes(32);
    const p = pseudonym(crypto, secret, "patient", "12345");
    expect(p).toMatch(/^pt_[A-Za-z0-9_-]{43}$/);
    expect(pseudonym(crypto, secret, "patient", "12345")).toBe(p);
    expect(pseudonym(crypto, crypto.randomBytes(32), "patient", "12345")).not.toBe(p);
    expect(pseudonym(crypto, secret, "study", "12345").slice(3)).not.toBe(p.slice(3));
    expect(pseudonym(crypto, secret, "patient", "12345", "dataset-1")).not.toBe(p);
  });
});
