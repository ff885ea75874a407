import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { toBase64 } from "../../core/bytes.js";
import type { RadledgerError } from "../../core/errors.js";
import { makeNode, newKey, type TestNode } from "../../../test/helpers/node.js";
import { fakePseudonym } from "../../../test/helpers/fixtures.js";
import { auditDataDir } from "../../wiring/audit.js";
import { getTokenRecord, tokenRecordOf } from "./state.js";

let t: TestNode;
beforeEach(async () => {
  t = await makeNode();
});
afterEach(async () => {
  await t.close();
});

describe("identity rules at append time", () => {
  test("an admin enrols an actor whose key then signs; the enrolment is projected", async () => {
    const rad = await t.enrol("rad-1", ["radiologist"], { displayName: "Dr A", specialty: "neuroradiology" });
    expect(t.node.store.getDoc("actor", "rad-1")).toMatchObject({
      roles: ["radiologist"],
      status: "active",
      keys: [rad.keyId],
    });
    expect(t.node.store.getDoc("key", rad.keyId)).toMatchObject({ actor: "rad-1", status: "active" });
  });

  test("entries by unknown keys, by keys of another actor, and with bad signatures are refused", async () => {
    const stranger = newKey("rad-x");
    expect(await t.refusal(t.sign(stranger, "role.granted", { actorId: "admin", role: "auditor" }))).toBe(
      "KEY_UNKNOWN",
    );
    const impostor = { ...t.admin, actor: "rad-1" };
    await t.enrol("rad-1", ["radiologist"]);
    expect(await t.refusal(t.sign(impostor, "role.granted", { actorId: "rad-1", role: "auditor" }))).toBe(
      "KEY_UNKNOWN",
    );
    const good = t.sign(t.admin, "role.granted", { actorId: "rad-1", role: "auditor" });
    const text = new TextDecoder().decode(good);
    const tampered = new TextEncoder().encode(text.replace('"auditor"', '"curator"'));
    expect(await t.refusal(tampered)).toBe("ENTRY_BAD_SIGNATURE");
  });

  test("only admins enrol, and non-admins cannot grant roles", async () => {
    const rad = await t.enrol("rad-1", ["radiologist"]);
    expect(
      await t.refusal(
        t.sign(rad, "actor.enrolled", {
          actorId: "rad-2",
          kind: "staff",
          roles: ["admin"],
          publicKey: toBase64(newKey("x").publicKey),
        }),
      ),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(await t.refusal(t.sign(rad, "role.granted", { actorId: "rad-1", role: "admin" }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
  });

  test("a sponsor's actor names its organisation; a sponsor role needs one; a patient names none", async () => {
    const enrol = (actorId: string, roles: string[], extra: Record<string, string> = {}) =>
      t.sign(t.admin, "actor.enrolled", {
        actorId,
        kind: roles.includes("patient") ? "patient" : "staff",
        roles,
        publicKey: toBase64(newKey(actorId).publicKey),
        ...extra,
      });
    expect(await t.refusal(enrol("mon-1", ["sponsor"]))).toBe("ENTRY_SCHEMA_INVALID");
    expect(
      await t.refusal(enrol("pt-1", ["patient"], { patient: fakePseudonym("pt_"), organisation: "Acme" })),
    ).toBe("ENTRY_SCHEMA_INVALID");
    await t.enrol("mon-1", ["sponsor"], { organisation: "Acme Oncology" });
    expect(t.node.store.getDoc("actor", "mon-1")).toMatchObject({ organisation: "Acme Oncology" });
    // Granting the sponsor role later: only to an actor that names its organisation.
    await t.enrol("rad-1", ["radiologist"]);
    expect(await t.refusal(t.sign(t.admin, "role.granted", { actorId: "rad-1", role: "sponsor" }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    await t.enrol("mon-2", ["vendor"], { organisation: "Acme Oncology" });
    await t.node.appender.append(t.sign(t.admin, "role.granted", { actorId: "mon-2", role: "sponsor" }));
    expect(t.node.store.getDoc("actor", "mon-2")).toMatchObject({ roles: ["vendor", "sponsor"] });
  });

  test("duplicate actors and keys, and reuse of a key are refused", async () => {
    const rad = await t.enrol("rad-1", ["radiologist"]);
    expect(
      await t.refusal(
        t.sign(t.admin, "actor.enrolled", {
          actorId: "rad-1",
          kind: "staff",
          roles: ["radiologist"],
          publicKey: toBase64(newKey("y").publicKey),
        }),
      ),
    ).toBe("ACTOR_ALREADY_ENROLLED");
    expect(
      await t.refusal(
        t.sign(t.admin, "actor.enrolled", {
          actorId: "rad-2",
          kind: "staff",
          roles: ["radiologist"],
          publicKey: toBase64(rad.publicKey),
        }),
      ),
    ).toBe("KEY_ALREADY_ENROLLED");
  });

  test("a revoked key signs nothing afterwards; a rotated key is retired and the new one works", async () => {
    const rad = await t.enrol("rad-1", ["radiologist", "admin"]);
    const next = newKey("rad-1");
    await t.node.appender.append(
      t.sign(rad, "key.rotated", {
        actorId: "rad-1",
        oldKey: rad.keyId,
        newPublicKey: toBase64(next.publicKey),
      }),
    );
    expect(await t.refusal(t.sign(rad, "role.granted", { actorId: "admin", role: "auditor" }))).toBe(
      "KEY_REVOKED",
    );
    await t.node.appender.append(t.sign(next, "role.granted", { actorId: "admin", role: "auditor" }));
    await t.node.appender.append(
      t.sign(t.admin, "key.revoked", { actorId: "rad-1", keyId: next.keyId, reason: "compromised" }),
    );
    expect(await t.refusal(t.sign(next, "role.revoked", { actorId: "admin", role: "auditor" }))).toBe(
      "KEY_REVOKED",
    );
    expect(t.node.store.getDoc("key", next.keyId)).toMatchObject({
      status: "revoked",
      reason: "compromised",
    });
  });

  test("an actor cannot revoke another actor's key unless admin; the log key cannot be revoked", async () => {
    const a = await t.enrol("rad-1", ["radiologist"]);
    const b = await t.enrol("rad-2", ["radiologist"]);
    expect(
      await t.refusal(t.sign(a, "key.revoked", { actorId: "rad-2", keyId: b.keyId, reason: "other" })),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await t.refusal(
        t.sign(t.admin, "key.revoked", {
          actorId: "institution",
          keyId: t.institution.keyId,
          reason: "other",
        }),
      ),
    ).toBe("ROLE_NOT_PERMITTED");
  });

  test("schema, origin, time window, genesis and type rules are enforced with codes", async () => {
    expect(
      await t.refusal(
        t.sign(t.admin, "actor.enrolled", { actorId: "rad-1", kind: "staff", roles: [], publicKey: "x" }),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(
      await t.refusal(
        t.sign(t.admin, "actor.enrolled", {
          actorId: "p1",
          kind: "patient",
          roles: ["patient"],
          publicKey: toBase64(newKey("p").publicKey),
          displayName: "Jane Doe",
          patient: "pt_" + "A".repeat(43),
        }),
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(await t.refusal(t.sign(t.admin, "no.such-type", {}))).toBe("ENTRY_UNKNOWN_TYPE");
    expect(
      await t.refusal(
        t.sign(
          t.admin,
          "role.granted",
          { actorId: "admin", role: "auditor" },
          undefined,
          Date.now() - 3_600_000,
        ),
      ),
    ).toBe("ENTRY_TIME_OUT_OF_WINDOW");
    expect(
      await t.refusal(
        t.sign(t.institution, "institution.genesis", {
          name: "Again",
          logVerifierKey: t.node.verifierKey,
          publicKey: toBase64(t.institution.publicKey),
        }),
      ),
    ).toBe("GENESIS_ALREADY_PRESENT");
    const other = new TextEncoder().encode(
      new TextDecoder()
        .decode(t.sign(t.admin, "role.granted", { actorId: "admin", role: "auditor" }))
        .replace("test-hospital", "other-hospital"),
    );
    expect(await t.refusal(other)).toMatch(/ENTRY_WRONG_ORIGIN|ENTRY_BAD_SIGNATURE/);
  });

  test("the same entry twice is a duplicate", async () => {
    const e = t.sign(t.admin, "role.granted", { actorId: "admin", role: "auditor" });
    const first = await t.node.appender.append(e);
    const [again] = await t.node.appender.appendAll([e]);
    expect(again).toMatchObject({ ok: false });
    expect((again as { error: RadledgerError }).error).toMatchObject({
      code: "ENTRY_DUPLICATE",
      details: { index: first.index },
    });
  });

  test("entries within one batch see each other: enrol then sign in the same append call", async () => {
    const key = newKey("rad-9");
    const results = await t.node.appender.appendAll([
      t.sign(t.admin, "actor.enrolled", {
        actorId: "rad-9",
        kind: "staff",
        roles: ["radiologist", "admin"],
        publicKey: toBase64(key.publicKey),
      }),
      t.sign(key, "role.granted", { actorId: "admin", role: "auditor" }),
      t.sign(key, "role.granted", { actorId: "admin", role: "auditor" }), // duplicate bytes? no: different time → refused by rule
    ]);
    expect(results[0]!.ok).toBe(true);
    expect(results[1]!.ok).toBe(true);
    expect(results[2]).toMatchObject({ ok: false });
  });
});

describe("credentials on the log: token.issued, token.revoked, password.set", () => {
  const issued = (actorId: string, issuedBy: string, tokenId = "0123456789abcdef") => ({
    tokenId,
    actorId,
    kind: "api",
    expiresAt: "2027-01-01T00:00:00.000Z",
    issuedBy,
  });

  test("a person's token is issued only to that person; an admin's only for a system actor", async () => {
    await t.enrol("rad-1", ["radiologist"]);
    await t.enrol("pt-1", ["patient"], { patient: fakePseudonym() });
    await t.enrol("ris-1", ["integration"], { kind: "system" });
    for (const actor of ["rad-1", "pt-1"])
      expect(await t.refusal(t.sign(t.institution, "token.issued", issued(actor, "admin")))).toBe(
        "TOKEN_NOT_ISSUABLE",
      );
    expect(await t.refusal(t.sign(t.institution, "token.issued", issued("ris-1", "rad-1")))).toBe(
      "TOKEN_NOT_ISSUABLE",
    );
    expect(await t.refusal(t.sign(t.institution, "token.issued", issued("nobody", "admin")))).toBe(
      "ACTOR_UNKNOWN",
    );
    const own = await t.node.appender.append(
      t.sign(t.institution, "token.issued", issued("rad-1", "rad-1", "00000000000000a1")),
    );
    const sys = await t.node.appender.append(t.sign(t.institution, "token.issued", issued("ris-1", "admin")));
    expect(tokenRecordOf(t.node.store, "0123456789abcdef")).toMatchObject({
      id: sys.leafHash,
      actor: "ris-1",
      issuedBy: "admin",
      kind: "api",
    });
    expect(getTokenRecord(t.node.store, own.leafHash)).toMatchObject({ tokenId: "00000000000000a1" });
    expect(t.node.store.lookup("token.actor", "rad-1").map((r) => r.value)).toEqual([own.leafHash]);
    // The same token id twice is refused; only the node's own key records credentials.
    expect(await t.refusal(t.sign(t.institution, "token.issued", issued("ris-1", "admin")))).toBe(
      "TOKEN_RECORD_CONFLICT",
    );
    expect(
      await t.refusal(t.sign(t.admin, "token.issued", issued("ris-1", "admin", "00000000000000b2"))),
    ).toBe("ROLE_NOT_PERMITTED");
  });

  test("a revocation references the issuance, by the token's actor or an admin, once", async () => {
    await t.enrol("rad-1", ["radiologist"]);
    await t.enrol("rad-2", ["radiologist"]);
    const tokenId = "00000000000000c3";
    const token = (
      await t.node.appender.append(t.sign(t.institution, "token.issued", issued("rad-1", "rad-1", tokenId)))
    ).leafHash;
    const revoked = (revokedBy: string, id = tokenId, actorId = "rad-1") => ({
      tokenId: id,
      actorId,
      revokedBy,
      reason: "revoked",
    });
    expect(await t.refusal(t.sign(t.institution, "token.revoked", revoked("rad-2"), { token }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(await t.refusal(t.sign(t.institution, "token.revoked", revoked("rad-1")))).toBe(
      "TOKEN_RECORD_CONFLICT",
    );
    expect(
      await t.refusal(
        t.sign(t.institution, "token.revoked", revoked("admin", "00000000000000d4"), { token }),
      ),
    ).toBe("TOKEN_RECORD_CONFLICT");
    const r = await t.node.appender.append(
      t.sign(t.institution, "token.revoked", revoked("admin"), { token }),
    );
    expect(getTokenRecord(t.node.store, token)!.revoked).toMatchObject({ id: r.leafHash, by: "admin" });
    expect(await t.refusal(t.sign(t.institution, "token.revoked", revoked("rad-1"), { token }))).toBe(
      "TOKEN_RECORD_CONFLICT",
    );
    // A token issued before issuance was logged has no entry to reference.
    await t.node.appender.append(
      t.sign(t.institution, "token.revoked", revoked("rad-1", "00000000000000e5")),
    );
  });

  test("a password is set by its actor or an admin; the projection names who", async () => {
    await t.enrol("rad-1", ["radiologist"]);
    await t.enrol("rad-2", ["radiologist"]);
    expect(await t.refusal(t.sign(t.institution, "password.set", { actorId: "rad-1", setBy: "rad-2" }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(
      await t.refusal(t.sign(t.institution, "password.set", { actorId: "nobody", setBy: "admin" })),
    ).toBe("ACTOR_UNKNOWN");
    await t.node.appender.append(t.sign(t.institution, "password.set", { actorId: "rad-1", setBy: "admin" }));
    expect(t.node.store.getDoc("password", "rad-1")).toMatchObject({ setBy: "admin" });
    await t.node.appender.append(t.sign(t.institution, "password.set", { actorId: "rad-1", setBy: "rad-1" }));
    expect(t.node.store.getDoc("password", "rad-1")).toMatchObject({ setBy: "rad-1" });
    await t.node.ledger.idle();
    expect(await auditDataDir(t.dir, { threads: 0 })).toMatchObject({ ok: true });
  });
});
