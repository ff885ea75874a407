/**
 * The radiologist's journey in a real Chromium (docs/web.md "Reading"): the worklist, a report with
 * its sections and their authors, reading the text through the gatekeeper (an access.recorded permit
 * on the log before the text shows), and amending the signed report with a reason — text to the
 * vault, its commitment on the log, signed with the radiologist's key.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { fromUtf8 } from "../../src/core/bytes.js";
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

const entries = (type: string): LogEntry[] => logEntries(web, type);

beforeAll(async () => {
  web = await startWebNode();
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("dialog", (d) => void d.accept());
  await signIn(page, web, "radiologist");
}, 180_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

test("worklist → report: sections with their authors; reading the text is decided and recorded first, and the page shows that decision", async () => {
  expect(page.url()).toMatch(/\/reading$/);
  await page.getByRole("heading", { name: "Worklist" }).waitFor();
  await expectAccessible(page, "worklist");
  await screenshots(page, "reading-worklist");
  await page
    .getByRole("link", { name: /^Open report / })
    .first()
    .click();
  await page.getByRole("heading", { name: "Sections" }).waitFor();
  const before = entries("access.recorded").length;
  await page.getByRole("button", { name: "Show text" }).click();
  await page.getByTestId("access-decision").waitFor();
  const recorded = entries("access.recorded").slice(before);
  expect(recorded.length).toBe(1);
  // What the page shows is what the log recorded, permit or deny (the gatekeeper decides).
  const shown = (await page.getByTestId("access-decision").getAttribute("data-decision")) ?? "permit";
  expect(recorded[0]!.body).toMatchObject({ action: "read", actor: "rad-neuro-1", decision: shown });
  await expectAccessible(page, "report");
  await screenshots(page, "reading-report");
});

test("amending the signed report with a reason: on the log by the radiologist, the text only in the vault", async () => {
  const text = "Addendum: comparison with prior study shows no interval change.";
  await page.getByLabel("Kind").selectOption("addendum");
  await page.getByLabel("Amended text").fill(text);
  const before = web.api.t.node.ledger.size;
  await page
    .getByRole("button", { name: /^(Record|Amend|Add)/ })
    .last()
    .click();
  await expect.poll(() => web.api.t.node.ledger.size).toBeGreaterThan(before);
  const amended = entries("report.amended").at(-1) ?? entries("report.contribution").at(-1)!;
  expect(amended.actor).toBe("rad-neuro-1");
  // The text never goes on the log: only its commitment.
  for (let i = before; i < web.api.t.node.ledger.size; i++)
    expect(fromUtf8(web.api.t.node.store.readEntry(i)!.bytes)).not.toContain("interval change");
});

test("a new report: opened on a study, a section written keyboard-only (text in the vault), signed off after confirmation", async () => {
  await page.getByRole("link", { name: "Worklist" }).click();
  await page
    .getByRole("button", { name: /^Open a report on study / })
    .first()
    .click();
  await page.getByRole("heading", { name: "Write a section" }).waitFor();
  const opened = entries("report.opened").at(-1)!;
  expect(opened.actor).toBe("rad-neuro-1");

  const text = "Findings: no acute intracranial abnormality on this synthetic study.";
  await page.getByLabel("Section text").focus();
  await page.keyboard.type(text);
  await page.keyboard.press("Tab"); // to the form's button
  await page.keyboard.press("Enter");
  await page.getByTestId("section-added").waitFor();
  const section = entries("report.contribution").at(-1)!;
  expect(section.actor).toBe("rad-neuro-1");
  expect(section.body).toMatchObject({ origin: "human" });
  expect(JSON.stringify(section)).not.toContain("intracranial");

  const signedBefore = entries("report.signed").length;
  await page.getByRole("button", { name: "Sign off…" }).click();
  await page.getByText("Signing freezes the report").waitFor();
  await expectAccessible(page, "sign-off confirmation");
  await page.getByRole("form", { name: "Confirm sign-off" }).getByRole("button").first().click();
  await expect.poll(() => entries("report.signed").length).toBe(signedBefore + 1);
  expect(entries("report.signed").at(-1)!.actor).toBe("rad-neuro-1");
  await screenshots(page, "reading-report-signed");
});
