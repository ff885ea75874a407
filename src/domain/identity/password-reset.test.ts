/**
 * password.set by the institution: the command line's `radledger actor passwd` (and a first password
 * at `actor add`) is the operator acting as the institution, as `token create` is, and the log must
 * be able to say so — a reset that names the institution as setter (docs/security.md "Tokens and
 * delegation"). Anyone else who is not the actor or an admin is still refused.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";

let t: TestNode;
beforeEach(async () => {
  t = await makeNode();
});
afterEach(async () => {
  await t.close();
});

test("the institution may set (reset) a person's password; the projection names it as the setter", async () => {
  await t.enrol("rad-1", ["radiologist"]);
  await t.enrol("rad-2", ["radiologist"]);
  await t.node.appender.append(
    t.sign(t.institution, "password.set", { actorId: "rad-1", setBy: "institution" }),
  );
  expect(t.node.store.getDoc("password", "rad-1")).toMatchObject({ setBy: "institution" });
  // Still refused: a colleague, and the institution's own actor as the target.
  expect(await t.refusal(t.sign(t.institution, "password.set", { actorId: "rad-1", setBy: "rad-2" }))).toBe(
    "ROLE_NOT_PERMITTED",
  );
  expect(
    await t.refusal(t.sign(t.institution, "password.set", { actorId: "institution", setBy: "institution" })),
  ).toBe("ACTOR_UNKNOWN");
});
