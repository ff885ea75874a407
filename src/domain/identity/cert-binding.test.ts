/**
 * The append rules of cert.bound and cert.unbound (mutual TLS for system actors, docs/operations.md):
 * whoever writes the log — the API, the command line, or someone holding the institution key's
 * entry-signing path — the log admits a binding only for an active system actor, asked for by an
 * admin or the institution, of a key not bound already; an unbinding must name the key's current
 * binding.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { createHash } from "node:crypto";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { certBindingOf } from "./state.js";

let t: TestNode;
beforeEach(async () => {
  t = await makeNode();
  await t.enrol("pacs-main", ["integration"], { kind: "system" });
  await t.enrol("rad-1", ["radiologist"]);
});
afterEach(async () => {
  await t.close();
});

const pin = (seed: string): string => createHash("sha256").update(seed).digest("base64");

const bind = (actorId: string, p: string, boundBy = "institution") =>
  t.sign(t.institution, "cert.bound", { pin: p, actorId, boundBy });

test("a system actor's key is bound, and the binding is projected by pin", async () => {
  const r = await t.node.appender.append(bind("pacs-main", pin("a"), "admin"));
  expect(certBindingOf(t.node.store, pin("a"))).toMatchObject({
    id: r.leafHash,
    actor: "pacs-main",
    boundBy: "admin",
  });
});

test("a person's actor is refused (CERT_NOT_BINDABLE), an unknown one ACTOR_UNKNOWN", async () => {
  expect(await t.refusal(bind("rad-1", pin("b")))).toBe("CERT_NOT_BINDABLE");
  expect(await t.refusal(bind("nobody", pin("b")))).toBe("ACTOR_UNKNOWN");
  expect(certBindingOf(t.node.store, pin("b"))).toBeUndefined();
});

test("only an admin or the institution binds; a bound key is not bound twice", async () => {
  expect(await t.refusal(bind("pacs-main", pin("c"), "rad-1"))).toBe("ROLE_NOT_PERMITTED");
  await t.node.appender.append(bind("pacs-main", pin("c")));
  expect(await t.refusal(bind("pacs-main", pin("c")))).toBe("CERT_BINDING_CONFLICT");
});

test("an unbinding references the key's current binding; afterwards the key may be bound again", async () => {
  const first = await t.node.appender.append(bind("pacs-main", pin("d")));
  const unbind = (ref: string) =>
    t.sign(
      t.institution,
      "cert.unbound",
      { pin: pin("d"), actorId: "pacs-main", unboundBy: "institution" },
      { binding: ref },
    );
  const other = await t.node.appender.append(bind("pacs-main", pin("e")));
  expect(await t.refusal(unbind(other.leafHash))).toBe("CERT_BINDING_CONFLICT");
  await t.node.appender.append(unbind(first.leafHash));
  expect(certBindingOf(t.node.store, pin("d"))).toBeUndefined();
  expect(await t.refusal(unbind(first.leafHash))).toBe("CERT_BINDING_CONFLICT");
  await t.node.appender.append(bind("pacs-main", pin("d")));
  expect(certBindingOf(t.node.store, pin("d"))?.actor).toBe("pacs-main");
});
