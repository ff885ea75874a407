/**
 * The radiologist's journey in a real Chromium (docs/web.md "Reading"): the worklist, a report with
 * its sections and their authors, reading the text through the gatekeeper (an access.recorded permit
 * on the log before the text shows), and amending the signed report with a reason — text to the
 * vault, its commitment on the log, signed with the radiologist's key. Then the demo's draft report
 * (src/app/demo/clinical.ts seedReadingDraft): its three AI findings accepted, modified and rejected
 * keyboard-only; a consultation asked of a second radiologist, who finds it on the worklist and
 * answers it; and the node's refusals shown with their codes when a page is out of date (an
 * already-answered consultation, a disposition on a report signed meanwhile), nothing appended.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Locator, Page } from "playwright-core";
import { setPassword } from "../../src/app/credentials.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import {
  expectAccessible,
  launchChromium,
  logEntries,
  screenshots,
  signIn,
  signOut,
  startWebNode,
  type Browser,
  type LogEntry,
  type WebNode,
} from "../helpers/web.js";

let web: WebNode;
let browser: Browser;
let page: Page;

const entries = (type: string): LogEntry[] => logEntries(web, type);
type Refs = Record<string, string | string[] | undefined>;
const refsOf = (e: LogEntry): Refs => (e as LogEntry & { refs?: Refs }).refs ?? {};

/**
 * The consultant of the journeys: a second radiologist of the demo, given a password here. Patient A
 * granted them consent to read reports (src/app/demo/clinical.ts), so they read the question.
 */
const CONSULTANT = "rad-cardio-1";
const CONSULTANT_PASSWORD = "test-password-consultant-rad-cardio-1";
let draft: string;

/** Signs in an actor that is not one of the personas (same page, same steps as signIn). */
async function signInAs(p: Page, actor: string, password: string): Promise<void> {
  await p.goto(`${web.url}/sign-in`);
  await p.getByLabel("Account (actor id)").fill(actor);
  await p.getByLabel("Password", { exact: true }).fill(password);
  await p.getByLabel("Password", { exact: true }).press("Enter");
  await p.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
}

/** Presses Tab (no clicks) until `target` has the focus; fails if it is not reached. */
async function tabTo(p: Page, target: Locator, max = 120): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await p.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

beforeAll(async () => {
  web = await startWebNode();
  await setPassword(web.api.t.node, web.api.app.radledger.auth, CONSULTANT, CONSULTANT_PASSWORD, CONSULTANT);
  const drafts = await web.api.call<{ items: { id: string }[] }>("GET", "/api/v1/reports?stage=draft", {
    token: await web.api.token("rad-neuro-1"),
  });
  draft = drafts.body.items[0]!.id;
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
  // The amended report of the demo (the draft one has its own journeys below).
  await page
    .getByTestId("worklist-reports")
    .locator("tr", { hasText: "Amended" })
    .getByRole("link", { name: /^Open report / })
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

interface Finding {
  inference: string;
  status: string;
}

async function findingsOf(report: string): Promise<Finding[]> {
  const r = await web.api.call<{ aiFindings: Finding[] }>("GET", `/api/v1/reports/${report}`, {
    token: await web.api.token("rad-neuro-1"),
  });
  return r.body.aiFindings;
}

test("AI findings on the draft, keyboard-only: one accepted, one modified with the finding as worded, one rejected with a reason — each a disposition on the log by the radiologist, naming the inference", async () => {
  const [f1, f2, f3] = (await findingsOf(draft)).map((f) => f.inference.slice(0, 8));
  const [i1, i2, i3] = (await findingsOf(draft)).map((f) => f.inference);
  await page.goto(`${web.url}/reading`);
  await page.getByRole("heading", { name: "Worklist" }).waitFor();
  await tabTo(page, page.getByRole("link", { name: `Open report ${draft.slice(0, 10)}` }));
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "AI findings" }).waitFor();
  // The AI badge names vendor, model and version; every finding awaits a decision.
  for (const i of [i1, i2, i3])
    expect(await page.getByTestId(`finding-${i!}`).innerText()).toMatch(
      /AI · Acme AI BrainLesionNet 2\.2\.0[\s\S]*Pending/,
    );
  await expectAccessible(page, "draft report with pending AI findings");
  await screenshots(page, "reading-ai-pending");

  const dispositions = () => entries("ai.finding.disposition");
  const before = dispositions().length;
  await tabTo(page, page.getByRole("button", { name: `Accept AI finding ${f1!}` }));
  await page.keyboard.press("Enter");
  await expect.poll(() => dispositions().length).toBe(before + 1);
  const accepted = dispositions().at(-1)!;
  expect(accepted).toMatchObject({ actor: "rad-neuro-1", body: { disposition: "accepted" } });
  expect(refsOf(accepted)).toEqual({ inference: i1, report: draft });
  await page.getByTestId(`finding-${i1!}`).getByText("Accepted by Dr Ada Neuro").waitFor();

  const modified = "6 mm focus of restricted diffusion, left corona radiata, unchanged in size.";
  await tabTo(page, page.getByRole("button", { name: `Modify AI finding ${f2!}` }));
  await page.keyboard.press("Enter");
  const modifyForm = page.getByRole("form", { name: `Modify AI finding ${f2!}` });
  await tabTo(page, modifyForm.getByLabel("The finding as you word it"));
  await page.keyboard.type(modified);
  await expectAccessible(page, "modifying an AI finding");
  await tabTo(page, modifyForm.getByRole("button", { name: "Record modified finding" }));
  await page.keyboard.press("Enter");
  await expect.poll(() => dispositions().length).toBe(before + 2);
  const mod = dispositions().at(-1)!;
  expect(mod).toMatchObject({ actor: "rad-neuro-1", body: { disposition: "modified" } });
  expect(refsOf(mod)).toEqual({ inference: i2, report: draft });
  // The finding as worded is a section of the report, of origin ai-modified, citing the inference;
  // the disposition cites the same text (noteCommitment). Neither carries the text itself.
  await expect.poll(() => entries("report.contribution").at(-1)!.body.origin).toBe("ai-modified");
  const section = entries("report.contribution").at(-1)!;
  expect(section.actor).toBe("rad-neuro-1");
  expect(refsOf(section)).toEqual({ report: draft, inference: i2 });
  expect(section.body.contentCommitment).toBe(mod.body.noteCommitment);
  expect(JSON.stringify([mod, section])).not.toContain("corona radiata");

  const reason = "Flow artefact near the left lateral ventricle, not a lesion.";
  await tabTo(page, page.getByRole("button", { name: `Reject AI finding ${f3!}` }));
  await page.keyboard.press("Enter");
  const rejectForm = page.getByRole("form", { name: `Reject AI finding ${f3!}` });
  await tabTo(page, rejectForm.getByLabel("Why (optional)"));
  await page.keyboard.type(reason);
  await tabTo(page, rejectForm.getByRole("button", { name: "Reject finding" }));
  await page.keyboard.press("Enter");
  await expect.poll(() => dispositions().length).toBe(before + 3);
  const rejected = dispositions().at(-1)!;
  expect(rejected).toMatchObject({ actor: "rad-neuro-1", body: { disposition: "rejected" } });
  expect(rejected.body.noteCommitment).toMatch(/^[0-9a-f]{64}$/);
  expect(refsOf(rejected)).toEqual({ inference: i3, report: draft });
  expect(JSON.stringify(rejected)).not.toContain("artefact");

  // The page shows each decision, and the modified finding among the sections with its AI badge.
  await page.getByTestId(`finding-${i3!}`).getByText("Rejected by Dr Ada Neuro").waitFor();
  const status = new Map((await findingsOf(draft)).map((f) => [f.inference, f.status]));
  expect([i1, i2, i3].map((i) => status.get(i!))).toEqual(["accepted", "modified", "rejected"]);
  await page.getByText("AI, modified · Acme AI BrainLesionNet 2.2.0 · modified").waitFor();
  await expectAccessible(page, "AI findings decided");
  await screenshots(page, "reading-ai-decided");
}, 180_000);

test("a consultation: asked of a second radiologist, who finds it on the worklist and answers it (consult.answered by the consultant, referencing the request); the requester sees the answer", async () => {
  await page.goto(`${web.url}/reading/reports/${draft}`);
  const ask = page.getByRole("form", { name: "Request a consultation" });
  await ask.getByLabel("Consultant (actor id)").fill(CONSULTANT);
  await ask.getByLabel("Specialty (optional)").fill("cardiac-imaging");
  await ask.getByLabel("Question").fill("Any cardioembolic source on the follow-up imaging?");
  await ask.getByRole("button", { name: "Request consultation" }).click();
  await expect.poll(() => entries("consult.requested").length).toBe(2);
  const request = entries("consult.requested").at(-1)!;
  expect(request).toMatchObject({
    actor: "rad-neuro-1",
    body: { to: CONSULTANT, specialty: "cardiac-imaging" },
  });
  expect(refsOf(request)).toEqual({ report: draft });
  expect(JSON.stringify(request)).not.toContain("cardioembolic");
  await page.getByTestId("consultations").getByText("Open", { exact: true }).waitFor();
  await signOut(page);

  await signInAs(page, CONSULTANT, CONSULTANT_PASSWORD);
  const asked = page.getByTestId("asked-of-me");
  await asked.getByText("Dr Ada Neuro").waitFor();
  await expectAccessible(page, "worklist with a consultation asked of me");
  await screenshots(page, "reading-asked-of-me");
  const mine = await web.api.call<{ items: { id: string }[] }>("GET", "/api/v1/consultations/mine", {
    token: await web.api.token(CONSULTANT),
  });
  const consult = mine.body.items[0]!.id;
  await asked.getByRole("link", { name: `Answer the consultation on report ${draft.slice(0, 10)}` }).click();
  const answerForm = page.getByRole("form", { name: "Answer the consultation asked by Dr Ada Neuro" });
  await answerForm.waitFor();
  // A second tab on the same report, loaded now: it will be out of date once the answer is in.
  const stale = await browser.context.newPage();
  await stale.goto(page.url());
  const staleForm = stale.getByRole("form", { name: "Answer the consultation asked by Dr Ada Neuro" });
  await staleForm.waitFor();

  // The question, read with the report through the gatekeeper (a permit by the patient's consent).
  await page.getByRole("button", { name: "Show text" }).click();
  await page.getByTestId("consult-question").getByText("Any cardioembolic source").waitFor();
  expect(entries("access.recorded").at(-1)!.body).toMatchObject({ actor: CONSULTANT, decision: "permit" });
  await answerForm.getByLabel("Your answer").fill("No cardiac source seen; recommend echocardiography.");
  await expectAccessible(page, "answering a consultation");
  await screenshots(page, "reading-consult-answer");
  await answerForm.getByRole("button", { name: "Answer consultation" }).click();
  await expect.poll(() => entries("consult.answered").length).toBe(2);
  const answered = entries("consult.answered").at(-1)!;
  expect(answered).toMatchObject({
    actor: CONSULTANT,
    body: { section: "consultation-note", origin: "human" },
  });
  expect(refsOf(answered)).toEqual({ consult });
  expect(JSON.stringify(answered)).not.toContain("echocardiography");
  await page.getByTestId("consultations").getByText("Answered", { exact: true }).waitFor();
  expect(await answerForm.count()).toBe(0);

  // The out-of-date tab answers again: the node refuses, the page shows the code, nothing appended.
  // (Counted by type: the pages' own reads are recorded and grow the log, docs/audit.md.)
  const answers = entries("consult.answered").length;
  await staleForm.getByLabel("Your answer").fill("A second answer.");
  await staleForm.getByRole("button", { name: "Answer consultation" }).click();
  const problem = stale.getByTestId("problem");
  await problem.waitFor();
  expect(await problem.getAttribute("data-code")).toBe("CONSULT_ALREADY_ANSWERED");
  expect(entries("consult.answered")).toHaveLength(answers);
  await expectAccessible(stale, "an already-answered consultation refused");
  await screenshots(stale, "reading-consult-refused");
  await stale.close();

  await page.getByRole("link", { name: "Worklist" }).click();
  await page.getByTestId("asked-of-me").getByText("Nothing is asked of you.").waitFor();
  await signOut(page);

  // The requester sees the answer, its text read through the gatekeeper like any section's.
  await signIn(page, web, "radiologist");
  await page.goto(`${web.url}/reading/reports/${draft}`);
  await page.getByTestId("consultations").getByText("Answered", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Show text" }).click();
  await page.getByText("No cardiac source seen; recommend echocardiography.").waitFor();
  await expectAccessible(page, "the answered consultation, read");
  await screenshots(page, "reading-consult-answered");
}, 180_000);

test("a disposition from a page opened before the report was signed: the node refuses (REPORT_SIGNED), the page shows it, nothing appended; the signed report offers no disposition", async () => {
  await page.goto(`${web.url}/reading/reports/${draft}`);
  const stale = await browser.context.newPage();
  await stale.goto(page.url());
  const [first] = await findingsOf(draft);
  const accept = stale.getByRole("button", { name: `Accept AI finding ${first!.inference.slice(0, 8)}` });
  await accept.waitFor();

  const signed = entries("report.signed").length;
  await page.getByRole("button", { name: "Sign off…" }).click();
  await page
    .getByRole("form", { name: "Confirm sign-off" })
    .getByRole("button", { name: "Confirm sign-off" })
    .click();
  await expect.poll(() => entries("report.signed").length).toBe(signed + 1);
  expect(refsOf(entries("report.signed").at(-1)!).report).toBe(draft);

  // Nothing appended by the refusal: no disposition. (The log itself still grows: the pages' reads
  // of the report are recorded, docs/audit.md.)
  const decided = entries("ai.finding.disposition").length;
  await accept.click();
  const problem = stale.getByTestId(`finding-${first!.inference}`).getByTestId("problem");
  await problem.waitFor();
  expect(await problem.getAttribute("data-code")).toBe("REPORT_SIGNED");
  expect(entries("ai.finding.disposition")).toHaveLength(decided);
  await expectAccessible(stale, "a disposition on a signed report refused");
  await screenshots(stale, "reading-disposition-refused");
  await stale.close();

  await page.getByTestId("sign-off").waitFor();
  await page.getByRole("heading", { name: "AI findings" }).waitFor();
  expect(await page.getByRole("button", { name: /^Accept AI finding/ }).count()).toBe(0);
}, 180_000);
