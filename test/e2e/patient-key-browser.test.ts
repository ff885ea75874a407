/**
 * The patient's own key in a real Chromium (issue 20, Patient item 1): src/web/app/lib/patient-key.ts,
 * bundled by esbuild as the app's build would, runs in a page of the node's own origin. The patient
 * signs in with their password, enrols a WebCrypto Ed25519 key (non-extractable, kept in IndexedDB)
 * with the registrar's one-time code, grants and revokes consent with it; the log holds both, signed
 * by the browser's key; the private key cannot be exported; after a reload the stored key still
 * signs; the node then refuses to sign for the patient (SIGNING_KEY_NOT_HELD).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { join } from "node:path";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { fromBase64, fromUtf8 } from "../../src/core/bytes.js";
import { verifyEntrySignature, type Entry } from "../../src/core/entry.js";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { getActor } from "../../src/domain/identity/state.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { grantBody } from "../helpers/consent.js";
import { ORIGIN } from "../helpers/node.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { launchChromium } from "../helpers/chromium.js";

type J = Record<string, unknown>;

const FIRST_PASSWORD = "registrar set this one";
const OWN_PASSWORD = "the patient's own passphrase";
const patient = fakePseudonym();

let api: TestApi;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let session = "";
let code = "";

/** The test page: the library as an IIFE (global PatientKey) on the node's origin. */
async function libraryScript(): Promise<string> {
  const out = await build({
    entryPoints: [join(import.meta.dirname, "../../src/web/app/lib/patient-key.ts")],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "PatientKey",
    platform: "browser",
    target: "es2022",
  });
  return out.outputFiles[0]!.text;
}

function entriesOf(type: string): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < api.t.node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(api.t.node.store.readEntry(i)!.bytes)) as Entry;
    if (e.type === type) out.push(e);
  }
  return out;
}

beforeAll(async () => {
  api = await startApi();
  const admin = await api.token("admin");
  const enrolled = await api.call("POST", "/api/v1/actors", {
    token: admin,
    body: { actorId: "pt-1", kind: "patient", roles: ["patient"], patient, password: FIRST_PASSWORD },
  });
  expect(enrolled.status, enrolled.text).toBe(201);
  await api.call("POST", "/api/v1/actors", {
    token: admin,
    body: { actorId: "rad-1", kind: "staff", roles: ["radiologist"], displayName: "Dr One" },
  });
  // The patient's own sign-in: the registrar's first password is replaced at once.
  const login = await api.call<{ token: string }>("POST", "/api/v1/auth/login", {
    body: { actor: "pt-1", password: FIRST_PASSWORD, newPassword: OWN_PASSWORD },
  });
  expect(login.status, login.text).toBe(201);
  session = login.body.token;
  const issued = await api.call<{ code: string }>("POST", "/api/v1/actors/pt-1/enrolment-codes", {
    token: admin,
    body: {},
  });
  expect(issued.status, issued.text).toBe(201);
  code = issued.body.code;

  const script = await libraryScript();
  browser = await launchChromium();
  // A page of the node's own origin (as the app is), carrying the bundled library; its API calls
  // go to the real node.
  await browser.context.route(`${api.url}/__patient-key-test`, (route) =>
    route.fulfill({
      status: 200,
      contentType: "text/html; charset=utf-8",
      body: `<!doctype html><html><head><title>patient key</title></head><body><script>${script}</script></body></html>`,
    }),
  );
  page = await browser.context.newPage();
  await page.goto(`${api.url}/__patient-key-test`);
}, 120_000);

afterAll(async () => {
  await browser.close();
  await api.close();
});

test("enrol with a code, grant and revoke in the browser: on the log, signed by the browser's key", async () => {
  const client = { headers: { authorization: `Bearer ${session}` } };
  // the library's own code check, before anything reaches the node
  const malformed = await page.evaluate(
    async ({ client }) =>
      PatientKey.enrolPatientKey(client, { actor: "pt-1", origin: "x", code: "not a code" }).then(
        () => "enrolled",
        (e: unknown) => (e as { code: string }).code,
      ),
    { client },
  );
  expect(malformed).toBe("ENROLMENT_CODE_INVALID");

  const result = await page.evaluate(
    async ({ client, code, grant }) => {
      const origin = await PatientKey.logOrigin(client);
      const { key, enrolled } = await PatientKey.enrolPatientKey(client, { actor: "pt-1", origin, code });
      // the private key cannot leave the browser, whatever format is asked
      const exports: string[] = [];
      for (const format of ["pkcs8", "jwk", "raw"] as const)
        exports.push(
          await globalThis.crypto.subtle.exportKey(format, key.keyPair.privateKey).then(
            () => "exported",
            (e: unknown) => (e as Error).name,
          ),
        );
      const granted = await PatientKey.submitPatientEntry(client, "pt-1", {
        origin,
        type: "consent.granted",
        body: JSON.parse(grant) as Parameters<typeof PatientKey.signPatientEntry>[1]["body"],
      });
      const revoked = await PatientKey.submitPatientEntry(client, "pt-1", {
        origin,
        type: "consent.revoked",
        body: { reason: "patient-request" },
        refs: { grant: granted.leafHash },
      });
      // the same code again: single use
      const again = await PatientKey.enrolPatientKey(client, { actor: "pt-1", origin, code }).then(
        () => "enrolled",
        (e: unknown) => (e as { code: string }).code,
      );
      return {
        origin,
        keyId: key.keyId,
        publicKey: key.publicKey,
        extractable: key.keyPair.privateKey.extractable,
        exports,
        enrolled,
        granted: granted.leafHash,
        revoked: revoked.leafHash,
        again,
      };
    },
    { client, code, grant: JSON.stringify(grantBody(patient)) },
  );
  expect(result.origin).toBe(ORIGIN);
  expect(result.extractable).toBe(false);
  expect(result.exports).toEqual(["InvalidAccessError", "InvalidAccessError", "InvalidAccessError"]);
  expect(result.enrolled.keyId).toBe(result.keyId);
  expect(result.enrolled.heldKeyRemoved).toBe(true);
  expect(result.again).toBe("ENROLMENT_CODE_USED");

  // On the log: the key enrolled for pt-1 is the browser's, and it signed the grant and revocation.
  expect(getActor(api.t.node.store, "pt-1")!.keyCustody).toBe("self");
  expect(entriesOf("key.self-enrolled")[0]!.body.publicKey).toBe(result.publicKey);
  const [grant] = entriesOf("consent.granted");
  const [revocation] = entriesOf("consent.revoked");
  for (const e of [grant!, revocation!]) {
    expect(e.actor).toBe("pt-1");
    expect(e.key).toBe(result.keyId);
    expect(verifyEntrySignature(crypto, e, fromBase64(result.publicKey))).toBe(true);
  }
  expect(revocation!.refs).toEqual({ grant: result.granted });

  // The node no longer signs for the patient.
  const held = await api.call("POST", "/api/v1/entries/consent.granted", {
    token: session,
    body: { body: grantBody(patient) },
  });
  expect(held.status, held.text).toBe(422);
  expect(held.body.code).toBe("SIGNING_KEY_NOT_HELD");
  const me = await api.call<J>("GET", "/api/v1/auth/me", { token: session });
  expect((me.body.actor as J).keyCustody).toBe("self");
});

test("after a reload the key is still in IndexedDB, still non-extractable, and still signs", async () => {
  await page.reload();
  const client = { headers: { authorization: `Bearer ${session}` } };
  const r = await page.evaluate(
    async ({ client, grant }) => {
      const key = await PatientKey.loadPatientKey("pt-1");
      if (!key) return undefined;
      const origin = await PatientKey.logOrigin(client);
      const granted = await PatientKey.submitPatientEntry(client, "pt-1", {
        origin,
        type: "consent.granted",
        body: JSON.parse(grant) as Parameters<typeof PatientKey.signPatientEntry>[1]["body"],
      });
      const missing = await PatientKey.submitPatientEntry(client, "pt-2", {
        origin,
        type: "consent.granted",
        body: JSON.parse(grant) as Parameters<typeof PatientKey.signPatientEntry>[1]["body"],
      }).then(
        () => "signed",
        (e: unknown) => (e as { code: string }).code,
      );
      return {
        keyId: key.keyId,
        enrolledAt: key.enrolledAt,
        extractable: key.keyPair.privateKey.extractable,
        index: granted.index,
        missing,
      };
    },
    {
      client,
      grant: JSON.stringify(
        grantBody(patient, { grantee: { kind: "actor", id: "rad-1" }, purposes: ["COC"] }),
      ),
    },
  );
  expect(r).toBeDefined();
  expect(r!.extractable).toBe(false);
  expect(r!.enrolledAt).toMatch(/^\d{4}-/);
  expect(r!.missing).toBe("PATIENT_KEY_MISSING");
  const entry = JSON.parse(fromUtf8(api.t.node.store.readEntry(r!.index)!.bytes)) as Entry;
  expect(entry.key).toBe(r!.keyId);
});

test("a new code from the registrar enrols a new browser key: the previous one is retired on the log", async () => {
  const admin = await api.token("admin");
  const issued = await api.call<{ code: string }>("POST", "/api/v1/actors/pt-1/enrolment-codes", {
    token: admin,
    body: {},
  });
  const client = { headers: { authorization: `Bearer ${session}` } };
  const r = await page.evaluate(
    async ({ client, code }) => {
      const before = (await PatientKey.loadPatientKey("pt-1"))!.keyId;
      const origin = await PatientKey.logOrigin(client);
      const { key, enrolled } = await PatientKey.enrolPatientKey(client, { actor: "pt-1", origin, code });
      const stored = (await PatientKey.loadPatientKey("pt-1"))!.keyId;
      return { before, after: key.keyId, stored, retired: enrolled.retired };
    },
    { client, code: issued.body.code },
  );
  expect(r.after).not.toBe(r.before);
  expect(r.stored).toBe(r.after);
  expect(r.retired).toEqual([r.before]);
  expect(api.t.node.store.getDoc("key", r.before)).toMatchObject({ status: "retired" });
  expect(api.t.node.store.getDoc("key", r.after)).toMatchObject({ status: "active", actor: "pt-1" });
});

declare global {
  // The bundled library on the test page (esbuild globalName).
  const PatientKey: typeof import("../../src/web/app/lib/patient-key.js");
}
