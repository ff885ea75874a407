/**
 * The patient's journey in a real Chromium (docs/web.md "Patient"): who looked at my record (a
 * refused attempt included, filtered), sharing with a radiologist (keyboard only) that makes their
 * next read a recorded permit, revocation that makes the read after it a recorded deny shown in the
 * list; then the patient enrols a key of their own in the browser with the registrar's code, signs a
 * grant with it — on the log under that key — and the node can no longer sign for them.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import {
  expectAccessible,
  launchChromium,
  logEntries,
  screenshots,
  signIn,
  startWebNode,
  type Browser,
  type LogEntry,
  type WebNode,
} from "../helpers/web.js";

let web: WebNode;
let browser: Browser;
let page: Page;
let admin: string;
let reader: string;
let patient: string;
let report: string;

const entries = (type: string): LogEntry[] => logEntries(web, type);

/** The outside reader's attempt to read the report's text: the gatekeeper's recorded decision. */
async function read(): Promise<number> {
  const r = await web.api.call("GET", `/api/v1/reports/${report}/content`, { token: reader });
  return r.status;
}

beforeAll(async () => {
  web = await startWebNode();
  admin = await web.api.token("admin");
  const enrolled = await web.api.call("POST", "/api/v1/actors", {
    token: admin,
    body: { actorId: "rad-outside-1", kind: "staff", roles: ["radiologist"], displayName: "Dr Outside" },
  });
  expect(enrolled.status).toBe(201);
  reader = await web.api.token("rad-outside-1");
  patient = (await web.api.call<{ patient: string }>("GET", "/api/v1/actors/patient-0001", { token: admin }))
    .body.patient;
  const reports = await web.api.call<{ items: { id: string }[] }>(
    "GET",
    `/api/v1/patients/${patient}/reports`,
    {
      token: admin,
    },
  );
  report = reports.body.items[0]!.id;
  expect(await read()).toBe(403); // no basis yet: a recorded deny
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("dialog", (d) => void d.accept());
  await signIn(page, web, "patient");
}, 180_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

test("who looked at my record: names and roles, a refused attempt, filters; downloads", async () => {
  expect(page.url()).toMatch(/\/patient$/);
  const table = page.getByTestId("accesses");
  await table.getByText("Dr Outside (radiologist)").first().waitFor();
  await page.getByLabel("Outcome").selectOption("deny");
  await expect
    .poll(async () => (await table.locator("tbody tr").allInnerTexts()).every((t) => t.includes("refused")))
    .toBe(true);
  expect(await table.locator("tbody tr").count()).toBeGreaterThan(0);
  await page.getByLabel("Outcome").selectOption("");
  expect(await page.title()).not.toContain(patient);
  await expectAccessible(page, "patient accesses");
  await screenshots(page, "patient-accesses");
  const [bundle] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download access-history bundle" }).click(),
  ]);
  expect(bundle.suggestedFilename()).toBe("my-access-history.radledger.tar");
  const [fhir] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download FHIR export" }).click(),
  ]);
  expect(fhir.suggestedFilename()).toBe("my-record.fhir.json");
});

test("a reported access is in my list, labelled; my own views appear only when I include them (keyboard only)", async () => {
  // The demo PACS reported (IHE ATNA over TLS) that a radiologist retrieved my MR directly from it:
  // on the log it is the PACS's signed access.reported entry about my pseudonym.
  const reported = entries("access.reported").filter((e) => e.body.patient === patient);
  expect(reported.map((e) => e.actor)).toEqual(["pacs-demo"]);
  const table = page.getByTestId("accesses");
  const row = table.locator("tbody tr").filter({ hasText: "Reported by Demo PACS" });
  await row.first().waitFor();
  const text = await row.first().innerText();
  expect(text).toContain("Reported by Demo PACS — the node did not decide this access");
  expect(text).toContain("the sender authenticated by its certificate");
  expect(text).toContain("dr.neuro");
  expect(text).toContain("DICOM Instances Accessed");
  // My own reads are recorded (docs/audit.md) but left out until I ask for them.
  const own = entries("access.recorded").filter((e) => e.body.actor === "patient-0001");
  expect(own.length).toBeGreaterThan(0);
  const mine = table.locator("tbody tr").filter({ hasText: "patient-0001" });
  expect(await mine.count()).toBe(0);
  const toggle = page.getByRole("checkbox", { name: "Include my own views" });
  expect(await toggle.isChecked()).toBe(false);
  // Keyboard only: from the Outcome filter, Tab to the checkbox and tick it with Space.
  await page.getByLabel("Outcome").focus();
  await page.keyboard.press("Tab");
  expect(await toggle.evaluate((el) => el === document.activeElement)).toBe(true);
  await page.keyboard.press("Space");
  expect(await toggle.isChecked()).toBe(true);
  await mine.first().waitFor();
  await expectAccessible(page, "patient accesses with a reported access and my own views");
  await screenshots(page, "patient-accesses-reported");
  await page.keyboard.press("Space");
  expect(await toggle.isChecked()).toBe(false);
  await expect.poll(async () => mine.count()).toBe(0);
});

test("sharing (keyboard only), signed by the node's held key and labelled so; revoking makes the next read a recorded deny", async () => {
  await page.getByRole("navigation", { name: "My record" }).getByRole("link", { name: "Sharing" }).click();
  await page.getByTestId("custody").getByText("Signed for you by the hospital's node").waitFor();
  await page.getByLabel("Who (id)").focus();
  await page.keyboard.type("rad-outside-1");
  await page.keyboard.press("Enter");
  await page.getByTestId("done").getByText("Shared").waitFor();
  const grant = entries("consent.granted").at(-1)!;
  expect(grant.actor).toBe("patient-0001");
  expect(grant.body).toMatchObject({
    patient,
    grantee: { kind: "actor", id: "rad-outside-1" },
    purposes: ["TREAT"],
  });
  expect(await read()).toBe(200);
  await expectAccessible(page, "patient sharing");
  await screenshots(page, "patient-sharing");

  await page.getByRole("button", { name: "Stop sharing with rad-outside-1" }).click();
  await page.getByTestId("done").getByText("Stopped sharing").waitFor();
  expect(entries("consent.revoked").at(-1)!.actor).toBe("patient-0001");
  expect(await read()).toBe(403);
  await page
    .getByRole("navigation", { name: "My record" })
    .getByRole("link", { name: "Who looked at my record" })
    .click();
  // The newest row by Dr Outside is the refusal (the patient's own reads of their record are rows
  // too now, docs/audit.md, so it need not be the newest row of all).
  const outside = page.getByTestId("accesses").locator("tbody tr").filter({ hasText: "Dr Outside" });
  await expect.poll(async () => (await outside.first().innerText()).includes("refused")).toBe(true);
});

test("a key of my own in this browser: enrolled with the registrar's code; grants signed by it; the node can no longer sign for me", async () => {
  const issued = await web.api.call<{ code: string }>("POST", "/api/v1/actors/patient-0001/enrolment-codes", {
    token: admin,
    body: {},
  });
  expect(issued.status).toBe(201);
  await page.getByRole("navigation", { name: "My record" }).getByRole("link", { name: "Sharing" }).click();
  await page.getByLabel("Enrolment code").fill("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01");
  await page.getByRole("button", { name: "Use a key in this browser" }).click();
  expect(await page.getByTestId("problem").getAttribute("data-code")).toMatch(/^ENROLMENT_CODE_/);
  await page.getByLabel("Enrolment code").fill(issued.body.code);
  await page.getByRole("button", { name: "Use a key in this browser" }).click();
  await page.getByTestId("custody").getByText("You sign your consent with your own key").waitFor();
  const enrolled = entries("key.self-enrolled").at(-1)!;

  await page.getByLabel("Who (id)").fill("rad-outside-1");
  await page.getByRole("button", { name: "Share", exact: true }).click();
  await page.getByTestId("done").getByText("Shared").waitFor();
  const grant = entries("consent.granted").at(-1)!;
  expect(grant.actor).toBe("patient-0001");
  expect(grant.key).toBe((enrolled.body as { keyId?: string }).keyId ?? grant.key);
  expect(grant.key).not.toBe(entries("consent.granted")[0]!.key);
  expect(await read()).toBe(200);

  // The node holds no key for them any more: its held-key path refuses to sign their consent.
  const session = await web.api.token("patient-0001");
  const forged = await web.api.call("POST", "/api/v1/entries/consent.granted", {
    token: session,
    body: { body: grant.body },
  });
  expect(forged.status).toBe(422);
  expect((forged.body as { code: string }).code).toBe("SIGNING_KEY_NOT_HELD");
  await expectAccessible(page, "patient sharing with own key");
  await screenshots(page, "patient-sharing-own-key");
});
