/**
 * The public pages in a real Chromium, without signing in (issue 20, items 6 and 7; docs/web.md):
 *
 * - Verify: a bundle dropped on /verify is verified in the browser; VERIFIED only against a key the
 *   person trusts (here: this node's published key, which the page names as such), UNTRUSTED (amber,
 *   nothing green) against the bundle's own key, FAILED with no content shown for a tampered one; and
 *   the page shows what was verified — the report's sections with their text and authors, the
 *   accesses, the trial timeline, the dataset credits — each compared with the log. One journey is
 *   keyboard-only.
 * - Explorer: the latest checkpoint, its (absent) witnesses, recent entries by type, one entry's
 *   inclusion proof checked in the browser against the checkpoint; no patient's actor id or pseudonym
 *   anywhere on its pages.
 *
 * One node (the demo scene) and one browser for the file; axe-core and screenshots on every page.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { fromUtf8 } from "../../src/core/bytes.js";
import { prepareBundle, writeBundleFile } from "../../src/app/bundle-export.js";
import type { BundleRequest } from "../../src/domain/bundles/select.js";
import { tempDir } from "../helpers/node.js";
import {
  expectAccessible,
  launchChromium,
  screenshots,
  startWebNode,
  type Browser,
  type WebNode,
} from "../helpers/web.js";

let web: WebNode;
let browser: Browser;
let page: Page;
let work: { path: string; remove(): void };
const files: Record<"report" | "tampered" | "access" | "trial" | "dataset", string> = {
  report: "",
  tampered: "",
  access: "",
  trial: "",
  dataset: "",
};

interface LogEntry {
  readonly index: number;
  readonly leaf: string;
  readonly type: string;
  readonly actor: string;
  readonly time: string;
  readonly body: Record<string, unknown>;
  readonly refs?: Record<string, string | string[]>;
}
let log: LogEntry[] = [];
const ofType = (type: string): LogEntry[] => log.filter((e) => e.type === type);
/** The demo's patient who signs in (src/app/demo/clinical.ts) and their pseudonym. */
const PATIENT_ACTOR = "patient-0001";
let patientPseudonym = "";

function readLog(): LogEntry[] {
  const node = web.api.t.node;
  const out: LogEntry[] = [];
  for (let i = 0; i < node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(node.store.readEntry(i)!.bytes)) as Omit<LogEntry, "index" | "leaf">;
    out.push({ ...e, index: i, leaf: Buffer.from(node.ledger.tree.node(0, i)).toString("hex") });
  }
  return out;
}

async function writeBundle(name: string, request: BundleRequest): Promise<string> {
  const path = join(work.path, `${name}.radledger.tar`);
  await writeBundleFile(prepareBundle(web.api.t.node, request).members, path);
  return path;
}

beforeAll(async () => {
  web = await startWebNode();
  work = tempDir("radledger-web-public-");
  log = readLog();
  const enrolled = ofType("actor.enrolled").find(
    (e) => e.body.actorId === PATIENT_ACTOR || e.actor === PATIENT_ACTOR,
  );
  patientPseudonym = typeof enrolled?.body.patient === "string" ? enrolled.body.patient : "";
  const signed = ofType("report.signed")[0]!;
  const report = String([signed.refs!.report].flat()[0]);
  files.report = await writeBundle("report", { kind: "report", id: report });
  // One base64 letter of the sign-off's signature changed (as test/e2e/browser-verifier.test.ts).
  const bytes = readFileSync(files.report);
  const i = bytes.indexOf('"sig":"', bytes.indexOf("report.signed") - 600) + 10;
  bytes[i] = bytes[i] === 0x41 ? 0x42 : 0x41;
  files.tampered = join(work.path, "tampered.radledger.tar");
  writeFileSync(files.tampered, bytes);
  files.access = await writeBundle("access", { kind: "access", id: patientPseudonym });
  files.trial = await writeBundle("trial", { kind: "trial", id: ofType("trial.registered")[0]!.leaf });
  files.dataset = await writeBundle("dataset", {
    kind: "dataset",
    id: ofType("dataset.created")[0]!.leaf,
    version: 1,
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 120_000);
afterAll(async () => {
  await browser.close();
  await web.close();
  work.remove();
});

/** Drops a file on the page's drop zone, as a person's drag and drop does. */
async function dropFile(path: string): Promise<void> {
  const b64 = readFileSync(path).toString("base64");
  const name = path.split("/").pop()!;
  const dataTransfer = await page.evaluateHandle(
    ({ b64, name }) => {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: "application/x-tar" }));
      return dt;
    },
    { b64, name },
  );
  await page.dispatchEvent("#drop", "drop", { dataTransfer });
}

const FINAL = ["verified", "untrusted", "failed", "input-error"]
  .map((s) => `#verdict[data-state="${s}"]`)
  .join(", ");

async function verdict(): Promise<{ state: string; text: string }> {
  await page.waitForSelector(FINAL, { timeout: 60_000 });
  return {
    state: (await page.getAttribute("#verdict", "data-state"))!,
    text: await page.innerText("#verdict"),
  };
}

/** Elements painted in the success tone (green) anywhere on the page. */
async function greens(): Promise<number> {
  return page.evaluate(() => {
    const green = getComputedStyle(document.documentElement).getPropertyValue("--success").trim();
    const probe = document.createElement("span");
    probe.style.color = green;
    document.body.append(probe);
    const rgb = getComputedStyle(probe).color;
    probe.remove();
    let n = 0;
    for (const el of document.querySelectorAll("body *")) {
      const s = getComputedStyle(el);
      if (s.color === rgb || s.backgroundColor === rgb || s.borderLeftColor === rgb) n++;
    }
    return n;
  });
}

test("a report bundle checked against the node's published key is VERIFIED and shows its sections with their text and authors", async () => {
  await page.goto(`${web.url}/verify`);
  await page.getByRole("button", { name: "Use this node's published key" }).click();
  const named = page.getByTestId("node-key");
  await named.waitFor();
  expect(await named.innerText()).toContain(`the key this node publishes at ${web.url}`);
  expect(await named.innerText()).toMatch(/weaker than a key you got elsewhere/);
  expect(await page.getByLabel(/The log's verifier key you trust/).inputValue()).toBe(
    web.api.t.node.verifierKey,
  );

  await dropFile(files.report);
  const v = await verdict();
  expect(v.state).toBe("verified");
  expect(v.text).toContain("VERIFIED");
  const sections = page.getByTestId("report-sections");
  await sections.waitFor();
  const text = await sections.innerText();
  // On the log: every section of the report (contributions, amendments, consultation answers).
  const report = String([ofType("report.signed")[0]!.refs!.report].flat()[0]);
  const consults = new Set(
    ofType("consult.requested")
      .filter((e) => [e.refs?.report].flat().includes(report))
      .map((e) => e.leaf),
  );
  const onLog = log.filter(
    (e) =>
      ((e.type === "report.contribution" || e.type === "report.amended") &&
        [e.refs?.report].flat().includes(report)) ||
      (e.type === "consult.answered" && [e.refs?.consult].flat().some((c) => consults.has(String(c)))),
  );
  expect(await sections.locator("li.section-item").count()).toBe(onLog.length);
  // The disclosed texts (the vault's, src/app/demo/clinical.ts) and who wrote them.
  expect(text).toContain("Axial T1, T2, FLAIR and DWI without contrast.");
  expect(text).toContain("Small acute infarct in the left corona radiata.");
  expect(text).toContain("Dr Ada Neuro");
  expect(text).toMatch(/AI/);
  await expectAccessible(page, "/verify with a verified report");
  await screenshots(page, "verify-report-verified");
});

test("without a key the same bundle is UNTRUSTED, amber, with nothing green; a tampered one FAILS and shows no content", async () => {
  await page.goto(`${web.url}/verify`);
  await dropFile(files.report);
  const v = await verdict();
  expect(v.state).toBe("untrusted");
  expect(v.text).toContain("UNTRUSTED");
  expect(await page.getByText("What the bundle claims: the report (not verified)").count()).toBe(1);
  expect(await page.getByText(/What was verified/).count()).toBe(0);
  expect(await greens()).toBe(0);
  await expectAccessible(page, "/verify with an untrusted bundle");
  await screenshots(page, "verify-untrusted");

  await page.getByRole("button", { name: "Use this node's published key" }).click();
  await page.getByTestId("node-key").waitFor();
  await dropFile(files.tampered);
  const bad = await verdict();
  expect(bad.state).toBe("failed");
  const body = await page.innerText("body");
  expect(body).toMatch(/ENTRY_BAD_SIGNATURE|ROOT_MISMATCH/);
  expect(body).not.toMatch(/\d+ entr(y|ies) verified/);
  expect(await page.getByTestId("summary").count()).toBe(0);
  expect(body).not.toContain("Small acute infarct");
  await expectAccessible(page, "/verify with a failed bundle");
  await screenshots(page, "verify-failed");
});

test("access, trial and dataset bundles show their lists, as on the log", async () => {
  await page.goto(`${web.url}/verify`);
  await page.getByRole("button", { name: "Use this node's published key" }).click();
  await page.getByTestId("node-key").waitFor();

  await dropFile(files.access);
  expect((await verdict()).state).toBe("verified");
  const accesses = page.getByTestId("accesses");
  await accesses.waitFor();
  const onLog = ofType("access.recorded").filter((e) => e.body.patient === patientPseudonym);
  expect(onLog.length).toBeGreaterThan(0);
  expect(await accesses.locator("tbody tr").count()).toBe(onLog.length);
  expect(await accesses.innerText()).toContain("rad-neuro-1");
  await expectAccessible(page, "/verify with an access bundle");
  await screenshots(page, "verify-access");

  await dropFile(files.trial);
  expect((await verdict()).state).toBe("verified");
  const timeline = page.getByTestId("timeline");
  await timeline.waitFor();
  const trialTypes = ["trial.registered", "trial.subject.enrolled", "trial.timepoint.imaged"];
  const rows = await timeline.locator("tbody tr").count();
  expect(rows).toBeGreaterThanOrEqual(trialTypes.reduce((n, t) => n + ofType(t).length, 0));
  if (ofType("trial.correction").length > 0) {
    expect(await timeline.innerText()).toContain("correction");
    expect(await timeline.innerText()).toMatch(/superseded by entry \d+/);
  }
  await expectAccessible(page, "/verify with a trial bundle");
  await screenshots(page, "verify-trial");

  await dropFile(files.dataset);
  expect((await verdict()).state).toBe("verified");
  const credits = page.getByTestId("credits");
  await credits.waitFor();
  const seal = ofType("dataset.version.sealed").find((e) => e.body.version === 1)!;
  const contributors = seal.body.contributors as string[];
  expect(await credits.locator("tbody tr").count()).toBe(contributors.length);
  for (const c of contributors) expect(await credits.innerText()).toContain(c);
  await expectAccessible(page, "/verify with a dataset bundle");
  await screenshots(page, "verify-dataset");
});

test("keyboard only: take this node's key, choose the bundle, read the verdict", async () => {
  await page.goto(`${web.url}/verify`);
  await page.locator("h1").waitFor();
  const focused = (): Promise<string> =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return `${el?.tagName ?? ""}:${el?.textContent ?? ""}:${el?.id ?? ""}`;
    });
  // Tab to the button, press it.
  for (let i = 0; i < 40 && !(await focused()).startsWith("BUTTON:Use this node's published key"); i++)
    await page.keyboard.press("Tab");
  expect(await focused()).toMatch(/^BUTTON:Use this node's published key/);
  await page.keyboard.press("Enter");
  await page.getByTestId("node-key").waitFor();
  // Tab on to the bundle's file field and open it with Space (the file chooser is the OS's dialog).
  for (let i = 0; i < 40 && !(await focused()).endsWith(":file"); i++) await page.keyboard.press("Tab");
  expect(await focused()).toMatch(/:file$/);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Space")]);
  await chooser.setFiles(files.report);
  const v = await verdict();
  expect(v.state).toBe("verified");
  // The report is reachable by keyboard (a focusable region).
  for (let i = 0; i < 30 && !(await focused()).startsWith("PRE:"); i++) await page.keyboard.press("Tab");
  expect(await focused()).toMatch(/^PRE:VERIFIED/);
});

/** The page's whole text, for the privacy scan: no patient's actor id or pseudonym may appear. */
async function expectNoPatient(what: string): Promise<void> {
  const text = await page.evaluate(() => document.documentElement.innerText + document.title);
  expect(patientPseudonym.length, "the demo patient's pseudonym").toBeGreaterThan(0);
  expect(text.includes(patientPseudonym), `${what} shows the patient's pseudonym`).toBe(false);
  expect(text.includes(PATIENT_ACTOR), `${what} shows the patient's actor id`).toBe(false);
}

test("explorer: the latest checkpoint, no witnesses configured, recent entries by type; no patient anywhere", async () => {
  await page.goto(`${web.url}/explorer`);
  const note = page.getByTestId("checkpoint-note");
  await note.waitFor();
  const node = web.api.t.node;
  expect(await note.innerText()).toContain(node.ledger.latestCheckpoint!.split("\n")[2]!);
  expect(await page.getByTestId("log-size").innerText()).toBe(node.ledger.size.toLocaleString("en-US"));
  await page.getByTestId("no-witnesses").waitFor();
  const recent = page.getByTestId("recent");
  await recent.waitFor();
  // Newest first, as on the log.
  const newest = log.at(-1)!;
  expect(await recent.locator("tbody tr").first().innerText()).toContain(newest.type);
  await page.getByLabel("Type").selectOption("access.recorded");
  await page.getByRole("table", { name: /Recent access\.recorded entries/ }).waitFor();
  const rows = await page.getByTestId("recent").locator("tbody tr").allInnerTexts();
  expect(rows.length).toBe(Math.min(25, ofType("access.recorded").length));
  for (const r of rows) expect(r).toContain("access.recorded");
  await expectNoPatient("/explorer");
  await expectAccessible(page, "/explorer");
  await screenshots(page, "explorer");
});

test("explorer: an entry's inclusion proof checks out in the browser; the entry's page names no one", async () => {
  await page.goto(`${web.url}/explorer`);
  const access = ofType("access.recorded").find((e) => e.body.patient === patientPseudonym)!;
  await page.getByLabel("Type").selectOption("access.recorded");
  await page.getByRole("link", { name: String(access.index), exact: true }).click();
  await page.waitForURL(new RegExp(`/explorer/entries/${access.index}$`));
  const result = page.getByTestId("proof-result");
  await result.waitFor();
  expect(await result.innerText()).toContain("Proof checks out");
  // The leaf hash shown is the log's.
  expect(await page.innerText("main")).toContain(access.leaf);
  await expectNoPatient(`/explorer/entries/${access.index}`);
  await expectAccessible(page, "/explorer/entries/:index");
  await screenshots(page, "explorer-entry");
});
