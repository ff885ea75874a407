/**
 * The auditor's pages in a real Chromium (issue 20, "Who does what" 3; docs/web.md "Audit"): the
 * auditor signs in, searches the accesses of the demo's patient (finding its break-glass permit and
 * its deny), gets "No such patient" for a mistyped pseudonym — not an empty table — downloads the
 * results as CSV, opens one actor's accesses, reviews the break-glass access with the keyboard only
 * (access.reviewed on the log, the note in the vault, the queue empty), sees a long queue 20 review
 * forms at a time with "Load more" for the rest, and runs the AI recall with
 * its CSV. axe-core and screenshots at 390 and 1440 px on every page.
 */
import { readFileSync } from "node:fs";
import type { Download, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fromUtf8 } from "../../src/core/bytes.js";
import {
  expectAccessible,
  launchChromium,
  screenshots,
  signIn,
  signOut,
  startWebNode,
  type Browser,
  type WebNode,
} from "../helpers/web.js";

let web: WebNode;
let browser: Browser;
let page: Page;
/** The demo's patient B: consent revoked (a deny), then a break-glass read by the ER clinician. */
let patient: string;

interface LogEntry {
  type: string;
  actor: string;
  refs?: Record<string, string>;
  body: Record<string, unknown>;
}

function entriesOf(type: string): LogEntry[] {
  const out: LogEntry[] = [];
  const node = web.api.t.node;
  for (let i = 0; i < node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(node.store.readEntry(i)!.bytes)) as LogEntry;
    if (e.type === type) out.push(e);
  }
  return out;
}

async function downloaded(click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const wait: Promise<Download> = page.waitForEvent("download");
  await click();
  const d = await wait;
  const path = await d.path();
  return { name: d.suggestedFilename(), text: readFileSync(path, "utf8") };
}

/** Tab (keyboard only) until the focused element matches, at most `max` presses. */
async function tabTo(
  match: (el: { tag: string; type: string; name: string; text: string }) => boolean,
  max = 60,
) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const el = await page.evaluate(() => {
      const a = document.activeElement as HTMLInputElement | null;
      return {
        tag: a?.tagName.toLowerCase() ?? "",
        type: a?.type ?? "",
        name: a?.name ?? "",
        text: (a?.textContent ?? "").trim(),
      };
    });
    if (match(el)) return;
  }
  throw new Error("focus never reached the element");
}

beforeAll(async () => {
  web = await startWebNode();
  patient = web.api.t.node.pseudonym("patient", "DEMO-MRN-0002");
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 120_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

test("access search: the demo patient's break-glass and deny; a mistyped pseudonym is 'No such patient'; CSV", async () => {
  await signIn(page, web, "auditor");
  expect(page.url()).toMatch(/\/audit$/);
  await page.getByRole("heading", { name: "Access search" }).waitFor();
  await expectAccessible(page, "/audit (empty search)");
  await screenshots(page, "audit-search");

  await page.getByLabel("Patient pseudonym").fill(patient);
  await page.getByRole("button", { name: "Search" }).click();
  const results = page.getByTestId("access-results");
  await results.locator("tbody tr").first().waitFor();
  const rows = await results.locator("tbody tr").allInnerTexts();
  expect(rows.some((r) => r.includes("break-glass") && r.includes("patient-unable-to-consent"))).toBe(true);
  expect(rows.some((r) => r.includes("deny: revoked"))).toBe(true);
  expect(rows.every((r) => r.includes("Dr Eve Emergency"))).toBe(true);
  await expectAccessible(page, "/audit (results)");
  await screenshots(page, "audit-search-results");

  // The whole result as CSV, the same rows the table shows.
  const csv = await downloaded(() => page.getByRole("button", { name: "Download CSV" }).click());
  expect(csv.name).toBe("access-search.csv");
  const lines = csv.text.trimEnd().split("\r\n");
  expect(lines[0]).toContain('"time","actor","actor name","patient"');
  expect(lines).toHaveLength(1 + rows.length);
  expect(csv.text).toContain(`"${patient}"`);
  expect(csv.text).toContain('"break-glass: patient-unable-to-consent"');
  expect(csv.text).toContain('"deny: revoked"');

  // The outcome filter reaches the node: denies only.
  await page.getByLabel("Outcome").selectOption("deny");
  await page.getByRole("button", { name: "Search" }).click();
  await expect
    .poll(() => results.locator("tbody tr").allInnerTexts())
    .toEqual([expect.stringContaining("deny: revoked")]);

  // The date range reaches the node too: nothing recorded from 2099 on — an empty result, said so.
  await page.getByLabel("Outcome").selectOption("");
  await page.getByLabel("From (UTC date)").fill("2099-01-01");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("No access matches these filters.").waitFor();
  expect(await page.getByText(/access records? saved/).count()).toBe(0);
  await page.getByLabel("From (UTC date)").fill("");

  // A mistyped pseudonym (one character changed): the node's PATIENT_UNKNOWN, never an empty table.
  const typo = patient.slice(0, -2) + (patient.endsWith("AA") ? "BB" : "AA");
  await page.getByLabel("Patient pseudonym").fill(typo);
  await page.getByRole("button", { name: "Search" }).click();
  const problem = page.getByTestId("problem");
  await expect.poll(() => problem.getAttribute("data-code")).toBe("PATIENT_UNKNOWN");
  expect(await problem.innerText()).toContain("No such patient");
  expect(await page.getByTestId("access-results").count()).toBe(0);
  await expectAccessible(page, "/audit (no such patient)");
  await screenshots(page, "audit-search-unknown");
});

test("accesses by actor: the ER clinician's decisions, reached from the search", async () => {
  await page.getByLabel("Patient pseudonym").fill(patient);
  await page.getByRole("button", { name: "Search" }).click();
  await page
    .getByTestId("access-results")
    .getByRole("link", { name: /Dr Eve Emergency/ })
    .first()
    .click();
  await page.waitForURL(/\/audit\/actors\/clin-er-1$/);
  await page.getByRole("heading", { name: "Accesses by clin-er-1" }).waitFor();
  const table = page.getByTestId("actor-accesses");
  await table.locator("tbody tr").first().waitFor();
  const mine = web.api.t.node.store.lookup("access.actor", "clin-er-1", { limit: 1000 });
  expect(await table.locator("tbody tr").count()).toBe(mine.length);
  expect(await page.locator(".facts").innerText()).toContain("clinician");
  await expectAccessible(page, "/audit/actors/clin-er-1");
  await screenshots(page, "audit-actor");
});

test("break-glass review, keyboard only: access.reviewed on the log, the note in the vault, the queue empty", async () => {
  await page
    .getByRole("navigation", { name: "Audit" })
    .getByRole("link", { name: "Break-glass review" })
    .click();
  await page.getByRole("heading", { name: "Break-glass review" }).waitFor();
  const queue = page.getByTestId("break-glass-queue");
  await queue.getByText("Unconscious after a road traffic accident").waitFor();
  await expectAccessible(page, "/audit/break-glass");
  await screenshots(page, "audit-break-glass");

  // Keyboard only from here: Tab to the outcome, Space to choose, type the note, Enter on the button.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo((el) => el.tag === "input" && el.type === "radio");
  await page.keyboard.press("Space"); // the first outcome: justified
  await tabTo((el) => el.tag === "textarea");
  const note = "Checked with the ER rota: the patient was unconscious.";
  await page.keyboard.type(note);
  await tabTo((el) => el.tag === "button" && el.text === "Record review");
  await page.keyboard.press("Enter");

  await page.getByTestId("review-done").waitFor();
  await page.getByTestId("queue-empty").waitFor();
  const reviews = entriesOf("access.reviewed");
  expect(reviews).toHaveLength(1);
  expect(reviews[0]!.actor).toBe("auditor-1");
  expect(reviews[0]!.body.outcome).toBe("justified");
  const commitment = reviews[0]!.body.noteCommitment as string;
  expect(commitment).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(reviews[0])).not.toContain("ER rota"); // free text never on the log
  expect(web.api.t.node.vault.get(commitment)?.content).toEqual({ note });
  const access = await web.api.call<{ review: { open: boolean; outcome: string } }>(
    "GET",
    `/api/v1/access/${reviews[0]!.refs!.access}`,
    { token: await web.api.token("auditor-1") },
  );
  expect(access.body.review).toMatchObject({ open: false, outcome: "justified" });
  await expectAccessible(page, "/audit/break-glass (reviewed)");
  await screenshots(page, "audit-break-glass-done");
});

test("a long break-glass queue: the oldest 20 review forms, 'Load more' the rest, nothing left out", async () => {
  // 21 break-glass reads by the ER clinician of the part the demo's break-glass opened (patient B's
  // report), decided and recorded by the gatekeeper like any other.
  const node = web.api.t.node;
  const demo = node.store
    .lookup("access.patient", patient, { limit: 1000 })
    .map((r) => node.store.getDoc("access", r.value) as { basis?: { kind: string }; part: never })
    .find((a) => a.basis?.kind === "break-glass")!;
  for (let i = 0; i < 21; i++) {
    const outcome = await web.api.app.radledger.gatekeeper.authorize({
      actor: "clin-er-1",
      patient,
      part: demo.part,
      action: "read",
      purpose: "ETREAT",
      breakGlass: {
        reason: "urgent-clinical-need",
        justification: `Trauma call, case ${i}: imaging needed.`,
      },
    });
    expect(outcome.decision.decision).toBe("permit");
  }
  const open = await web.api.call<{ items: { id: string }[]; next?: string }>(
    "GET",
    "/api/v1/access/break-glass?limit=1000",
    { token: await web.api.token("auditor-1") },
  );
  expect(open.body.items).toHaveLength(21);
  // Still signed in as the auditor of the previous test, on the queue: load it afresh.
  await page.getByRole("navigation", { name: "Audit" }).getByRole("link", { name: "Access search" }).click();
  await page
    .getByRole("navigation", { name: "Audit" })
    .getByRole("link", { name: "Break-glass review" })
    .click();
  const items = page.getByTestId("break-glass-queue").getByRole("region");
  await expect.poll(() => items.count()).toBe(20);
  expect(await items.first().innerText()).toContain("case 0:"); // oldest first
  expect(await page.getByText("case 20:").count()).toBe(0);
  await expectAccessible(page, "/audit/break-glass (a page of 20)");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect.poll(() => items.count()).toBe(21);
  expect(await items.last().innerText()).toContain("case 20:");
  expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
});

test("AI recall: vendor, model, version → reports, studies, patients, uses; the CSV holds them", async () => {
  await page.getByRole("navigation", { name: "Audit" }).getByRole("link", { name: "AI recall" }).click();
  await page.getByRole("heading", { name: "AI recall" }).waitFor();
  await page.getByLabel("Vendor", { exact: true }).selectOption("Acme AI");
  await page.getByLabel("Model", { exact: true }).selectOption("BrainLesionNet");
  await page.getByLabel("Version", { exact: true }).selectOption("2.1.0");
  await page.getByRole("button", { name: "Run recall" }).click();
  await page.getByTestId("recall-uses").waitFor();
  const token = await web.api.token("auditor-1");
  const expected = await web.api.call<{
    reports: string[];
    studies: string[];
    patients: string[];
    uses: number;
  }>("GET", "/api/v1/ai/recall?vendor=Acme%20AI&name=BrainLesionNet&version=2.1.0", { token });
  expect(expected.body.reports.length).toBeGreaterThan(0);
  expect(await page.getByTestId("recall-uses").innerText()).toBe(String(expected.body.uses));
  for (const id of expected.body.patients) await page.getByTestId("recall-patients").getByText(id).waitFor();
  await expectAccessible(page, "/audit/ai-recall");
  await screenshots(page, "audit-ai-recall");

  const csv = await downloaded(() => page.getByRole("button", { name: "Download CSV" }).click());
  expect(csv.name).toBe("ai-recall-BrainLesionNet-2.1.0.csv");
  const lines = csv.text.trimEnd().split("\r\n");
  expect(lines[0]).toBe('"vendor","model","version","model id","record","id"');
  const body = lines.slice(1);
  expect(body).toHaveLength(
    expected.body.reports.length + expected.body.studies.length + expected.body.patients.length,
  );
  for (const id of expected.body.reports) expect(body.some((l) => l.endsWith(`"report","${id}"`))).toBe(true);
  for (const id of expected.body.studies) expect(body.some((l) => l.endsWith(`"study","${id}"`))).toBe(true);
  for (const id of expected.body.patients)
    expect(body.some((l) => l.endsWith(`"patient","${id}"`))).toBe(true);
  expect(body.every((l) => l.startsWith('"Acme AI","BrainLesionNet","2.1.0"'))).toBe(true);
});

test("an admin searches accesses too, and is told the break-glass queue is for auditors", async () => {
  await signOut(page);
  await signIn(page, web, "admin");
  // An admin lands in Admin; the audit area is in their menu too.
  expect(page.url()).toMatch(/\/admin$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await page.waitForURL(/\/audit$/);
  await page.getByLabel("Actor").fill("clin-er-1");
  await page.getByLabel("Outcome").selectOption("permit");
  await page.getByRole("button", { name: "Search" }).click();
  const rows = page.getByTestId("access-results").locator("tbody tr");
  await rows.first().waitFor();
  const texts = await rows.allInnerTexts();
  expect(texts.every((r) => r.includes("clin-er-1") && r.includes("permit"))).toBe(true);
  await page
    .getByRole("navigation", { name: "Audit" })
    .getByRole("link", { name: "Break-glass review" })
    .click();
  await page.getByText("For auditors").waitFor();
  expect(await page.getByTestId("problem").count()).toBe(0);
  await expectAccessible(page, "/audit/break-glass (admin)");
  await screenshots(page, "audit-break-glass-admin");
});

test("paging: 105 attempts under an unenrolled id — 100 rows, 'Load more' the rest, all in the CSV; its page says 'No such actor'", async () => {
  // Denied attempts by an id nobody enrolled, recorded by the gatekeeper like any other decision.
  const patientC = web.api.t.node.pseudonym("patient", "DEMO-MRN-0003");
  for (let i = 0; i < 105; i++)
    await web.api.app.radledger.gatekeeper.authorize({
      actor: "scanner-x",
      patient: patientC,
      part: { kind: "record" },
      action: "read",
      purpose: "TREAT",
    });
  // Still signed in as the admin of the previous test.
  await page.getByRole("navigation", { name: "Audit" }).getByRole("link", { name: "Access search" }).click();
  await page.getByLabel("Actor").fill("scanner-x");
  await page.getByRole("button", { name: "Search" }).click();
  const rows = page.getByTestId("access-results").locator("tbody tr");
  await expect.poll(() => rows.count()).toBe(100);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect.poll(() => rows.count()).toBe(105);
  expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
  expect((await rows.allInnerTexts()).every((r) => r.includes("scanner-x") && r.includes("deny"))).toBe(true);
  const csv = await downloaded(() => page.getByRole("button", { name: "Download CSV" }).click());
  expect(csv.text.trimEnd().split("\r\n")).toHaveLength(1 + 105);

  await rows.first().getByRole("link").click();
  await page.waitForURL(/\/audit\/actors\/scanner-x$/);
  await page.getByText("No such actor").waitFor();
  await expect.poll(() => page.getByTestId("actor-accesses").locator("tbody tr").count()).toBe(100);
  await expectAccessible(page, "/audit/actors/scanner-x");
  await screenshots(page, "audit-actor-unknown");
  // 105 gatekeeper decisions, two 100-row pages and two full-page screenshots of 100 cards at 390 px:
  // more work than the default minute allows on two shared cores.
}, 120_000);
