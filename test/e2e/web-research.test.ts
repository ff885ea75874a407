/**
 * Trials and datasets in a real Chromium (docs/web.md "Trials", "Datasets"; issue 20, "Who does
 * what" 4 and 5), on the demo scene: the trial coordinator finds the demo trial's subjects, opens
 * the timeline whose baseline was corrected (reason and superseded version on the page) and takes
 * home trial and subject bundles that verify with the log's key; the curator reads the credits,
 * downloads them as CSV, copies the citation, seals the open version by keyboard alone and shares
 * it with the partner hospital — both checked on the log — and takes home the new version's bundle;
 * the researcher sees the same dataset read-only, and the node refuses them the seal anyway.
 * axe-core and screenshots (390 and 1440 px) on every page.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { fromUtf8 } from "../../src/core/bytes.js";
import { tarMembers } from "../../src/core/tar.js";
import { verifyBundle } from "../../src/core/bundle/verify.js";
import { demoContext, PARTNER_ORIGIN } from "../../src/app/demo/context.js";
import { datasetItems, listDatasets, proposeSeal } from "../../src/domain/datasets/queries.js";
import { listTrials, subjectsOfTrial, subjectTimeline } from "../../src/domain/trials/queries.js";
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

interface LoggedEntry {
  readonly actor: string;
  readonly type: string;
  readonly body: Record<string, unknown>;
  readonly refs?: Record<string, string>;
}

function entriesOf(type: string): LoggedEntry[] {
  const node = web.api.t.node;
  const out: LoggedEntry[] = [];
  for (let i = 0; i < node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(node.store.readEntry(i)!.bytes)) as LoggedEntry;
    if (e.type === type) out.push(e);
  }
  return out;
}

/** Clicks what starts a download and verifies the saved bundle offline with the log's key alone. */
async function downloadAndVerify(start: () => Promise<void>) {
  const [file] = await Promise.all([page.waitForEvent("download"), start()]);
  const bytes = readFileSync(await file.path());
  const node = web.api.t.node;
  const report = await verifyBundle(tarMembers([bytes], { totalSize: bytes.length }), {
    crypto: node.crypto,
    logKeys: [node.verifierKey],
  });
  expect(report.failures).toEqual([]);
  expect(report.trust).toBe("verified");
  return { name: file.suggestedFilename(), report };
}

/**
 * Presses Tab until the focused element is the one named `name` — its text or its aria-label —
 * (keyboard only, no clicks).
 */
async function tabTo(name: string | RegExp, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const [text, label] = await page.evaluate(() => [
      document.activeElement?.textContent.trim() ?? "",
      document.activeElement?.getAttribute("aria-label") ?? "",
    ]);
    if (typeof name === "string" ? text === name || label === name : name.test(text) || name.test(label))
      return;
  }
  throw new Error(`${String(name)} was not reached with Tab`);
}

const sha256 = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  web = await startWebNode();
  browser = await launchChromium();
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: web.url });
  page = await browser.context.newPage();
}, 120_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

test("the trial coordinator finds the subjects, reads a corrected timeline and takes home bundles that verify", async () => {
  const store = web.api.t.node.store;
  const trial = listTrials(store).items[0]!;
  const subjects = subjectsOfTrial(store, trial.id).items;
  const corrected = subjects.find((s) =>
    subjectTimeline(store, s.id).items.some((i) => i.corrects !== undefined),
  )!;

  await signIn(page, web, "coordinator");
  expect(page.url()).toMatch(/\/trials$/);
  await page.getByRole("link", { name: "DEMO-ONC-001" }).waitFor();
  await expectAccessible(page, "trials");
  await screenshots(page, "trials-list");

  await page.getByRole("link", { name: "DEMO-ONC-001" }).click();
  await page.getByRole("heading", { name: "Trial DEMO-ONC-001" }).waitFor();
  // Every subject is listed (a subject id can be found without the API).
  await page.getByRole("link", { name: `Timeline of subject ${corrected.subject}` }).waitFor();
  expect(await page.locator('[data-testid="subjects"] tbody tr').count()).toBe(subjects.length);
  await expectAccessible(page, "a trial");
  await screenshots(page, "trials-trial");

  // The whole trial as a bundle: verifies offline against the log's key.
  const trialBundle = await downloadAndVerify(() =>
    page.getByRole("button", { name: "Download trial bundle" }).click(),
  );
  expect(trialBundle.report.kind).toBe("trial");
  expect(trialBundle.report.subject).toEqual({ id: trial.id });
  expect(trialBundle.name).toMatch(/^trial-[0-9a-f]{16}\.radledger\.tar$/);

  // An unknown pseudonym is a refusal with its code, never an empty result.
  await page.getByLabel("Trial pseudonym").fill(`ts_${"A".repeat(43)}`);
  await page.getByRole("button", { name: "Find subject" }).click();
  await expect.poll(() => page.getAttribute('[data-testid="problem"]', "data-code")).toBe("RECORD_NOT_FOUND");
  // The pseudonym a site holds opens the subject's timeline.
  await page.getByLabel("Trial pseudonym").fill(corrected.subject);
  await page.getByRole("button", { name: "Find subject" }).click();
  await page.waitForURL(new RegExp(`/trials/subjects/${corrected.id}$`));

  const timeline = page.locator('[data-testid="timeline"]');
  await timeline.waitFor();
  await page.getByRole("heading", { name: "Reads of baseline" }).waitFor();
  const text = await timeline.innerText();
  // The correction with its reason, and the version it superseded — still on the page.
  expect(text).toContain("Correction");
  expect(text).toContain("Wrong series");
  expect(text).toContain("wrong-series");
  expect(text).toContain("Superseded");
  expect(text).toContain("120 instances"); // the superseded baseline
  expect(text).toContain("118 instances"); // its correction, the current version
  expect(await timeline.locator("tbody tr").count()).toBe(3); // enrolment, baseline, correction
  expect(await page.title()).not.toContain("ts_"); // no pseudonym, let alone PHI, in the title
  await expectAccessible(page, "a subject's timeline");
  await screenshots(page, "trials-subject");

  const subjectBundle = await downloadAndVerify(() =>
    page.getByRole("button", { name: "Download subject bundle" }).click(),
  );
  expect(subjectBundle.report.kind).toBe("trial-subject");
  expect(subjectBundle.report.subject).toEqual({ id: corrected.id });
  expect(subjectBundle.report.byType["trial.correction"]).toBe(1);

  // A subject that does not exist: the page shows the node's refusal.
  await page.goto(`${web.url}/trials/subjects/${"0".repeat(64)}`);
  await expect.poll(() => page.getAttribute('[data-testid="problem"]', "data-code")).toBe("RECORD_NOT_FOUND");
  await signOut(page);
});

test("the sponsor's monitor sees its sponsor's trial only, reads the timeline and takes home a bundle that verifies, keyboard only", async () => {
  // Another sponsor's trial at the same site: the monitor must not learn it exists.
  const node = web.api.t.node;
  const other = await demoContext(node).append(node.heldKeys.get("trial-coord-1")!, "trial.registered", {
    sponsor: "Other Pharma",
    protocolId: "OTH-9",
  });
  await signIn(page, web, "sponsor");
  expect(page.url()).toMatch(/\/trials$/);
  await page.getByRole("link", { name: "DEMO-ONC-001" }).waitFor();
  expect(await page.getByRole("link", { name: "OTH-9" }).count()).toBe(0);
  expect(await page.locator("main").innerText()).not.toContain("Other Pharma");
  // The menu holds the trials and the public pages, nothing clinical.
  expect(await page.getByRole("link", { name: "Worklist" }).count()).toBe(0);

  // Keyboard only from here: the trial, a subject's timeline, its bundle.
  await tabTo("DEMO-ONC-001");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Trial DEMO-ONC-001" }).waitFor();
  await tabTo(/^Timeline of subject /);
  await page.keyboard.press("Enter");
  await page.locator('[data-testid="timeline"]').waitFor();
  await tabTo("Download subject bundle");
  const bundle = await downloadAndVerify(() => page.keyboard.press("Enter"));
  expect(bundle.report.kind).toBe("trial-subject");

  // Typed by hand, the other sponsor's trial is "not found", exactly like one that does not exist.
  await page.goto(`${web.url}/trials/${other}`);
  await expect.poll(() => page.getAttribute('[data-testid="problem"]', "data-code")).toBe("RECORD_NOT_FOUND");
  await expectAccessible(page, "the sponsor's trials");
  await signOut(page);
});

test("the curator reads and exports credits, seals a version by keyboard and shares it; both are on the log", async () => {
  const node = web.api.t.node;
  const dataset = listDatasets(node.store).items[0]!;
  const firstSeal = dataset.versions[0]!;
  // An annotator's work arrives after version 1 was sealed: version 2 has something to seal.
  const annotator = await web.api.token("annotator-1");
  const item = datasetItems(node.store, dataset.id).items[0]!;
  const added = await web.api.call("POST", "/api/v1/entries/dataset.annotation.added", {
    token: annotator,
    body: {
      body: {
        labelSchema: "stroke-lesion-seg",
        kind: "segmentation",
        tool: { name: "3D Slicer", version: "5.6.2" },
        contentHash: sha256("annotation 3"),
      },
      refs: { dataset: dataset.id, item: item.id },
    },
  });
  expect(added.status).toBe(201);

  await signIn(page, web, "curator");
  expect(page.url()).toMatch(/\/datasets$/);
  await page.getByRole("link", { name: "Demo stroke MR dataset" }).waitFor();
  await expectAccessible(page, "datasets");
  await screenshots(page, "datasets-list");

  await page.getByRole("link", { name: "Demo stroke MR dataset" }).click();
  await page.getByRole("heading", { name: "Dataset Demo stroke MR dataset" }).waitFor();
  const credits = page.locator('[data-testid="credits"]');
  await credits.waitFor();
  const creditText = await credits.innerText();
  for (const who of ["Gia Data", "Hal Labels", "Dr Ada Neuro", "Acme AI (vendor)"])
    expect(creditText).toContain(who);

  // The CSV: one row per contributor of version 1, with the seal's manifest root.
  const [csvFile] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download credits (CSV)" }).click(),
  ]);
  expect(csvFile.suggestedFilename()).toBe(`credits-${dataset.id.slice(0, 16)}-v1.csv`);
  const csv = readFileSync(await csvFile.path(), "utf8")
    .trimEnd()
    .split("\r\n");
  expect(csv[0]).toMatch(/^"dataset","dataset id","version","sealed","manifest root","actor","name","roles"/);
  expect(csv.slice(1).map((l) => l.split(",")[5])).toEqual([
    '"annotator-1"',
    '"curator-1"',
    '"rad-neuro-1"',
    '"vendor-acme"',
  ]);
  expect(csv[2]).toContain(`"Demo stroke MR dataset","${dataset.id}","1","yes","${firstSeal.manifestRoot}"`);
  expect(csv[2]).toContain('"Gia Data","curator","2"');

  // The citation names everyone, the version, this log and the manifest root; Copy puts it on the clipboard.
  const citation = await page.getByLabel("Citation").inputValue();
  expect(citation).toBe(
    `Contributors: Hal Labels (annotator); Gia Data (curator); Dr Ada Neuro (radiologist); Acme AI (vendor) (vendor). ` +
      `Dataset Demo stroke MR dataset, version 1, radledger ${node.config.origin}, manifest root ${firstSeal.manifestRoot}.`,
  );
  await page.getByRole("button", { name: "Copy citation" }).click();
  await page.getByText("Copied.").waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(citation);
  await expectAccessible(page, "a dataset (curator)");
  await screenshots(page, "datasets-dataset");

  // Seal version 2, keyboard only: Tab to the button, Enter; the confirmation takes the focus; Space.
  const proposal = proposeSeal(node.store, node.crypto, dataset.id);
  expect(proposal.version).toBe(2);
  await page.locator("h1").focus();
  const focused = () => page.evaluate(() => document.activeElement?.textContent.trim());
  await tabTo("Seal version 2");
  await page.keyboard.press("Enter");
  await expect.poll(focused).toBe("Confirm: seal version 2");
  // Cancel (Tab, Enter) puts the focus back on the seal button; nothing is appended.
  await page.keyboard.press("Tab");
  expect(await focused()).toBe("Cancel");
  await page.keyboard.press("Enter");
  await expect.poll(focused).toBe("Seal version 2");
  expect(entriesOf("dataset.version.sealed")).toHaveLength(1);
  await page.keyboard.press("Enter");
  await expect.poll(focused).toBe("Confirm: seal version 2");
  await expectAccessible(page, "the seal confirmation");
  await page.keyboard.press("Space");
  await page.locator('[data-testid="sealed"]').waitFor();
  const seals = entriesOf("dataset.version.sealed");
  const seal = seals.at(-1)!;
  expect(seals).toHaveLength(2);
  expect(seal.actor).toBe("curator-1");
  expect(seal.body).toEqual(proposal);
  expect(seal.body.annotations).toBe(3);
  const sealId = (
    await web.api.call<{ versions: { version: number; seal: string }[] }>(
      "GET",
      `/api/v1/datasets/${dataset.id}`,
      { token: await web.api.token("curator-1") },
    )
  ).body.versions.find((v) => v.version === 2)!.seal;
  await page.getByRole("heading", { name: "Seal version 3" }).waitFor();
  await page.getByText("Nothing was added since version 2").waitFor();

  // Share version 2 with the partner hospital; the agreement is hashed in the browser.
  const agreement = Buffer.from("Data use agreement 2026-002, signed by both parties.\n");
  await page.getByLabel("Sealed version", { exact: true }).selectOption("2");
  // The institutions the dataset's items come from are offered, the first one chosen.
  await expect
    .poll(() => page.getByLabel("Institution", { exact: true }).inputValue())
    .toBe("radledger.demo-hospital.example/log");
  await page.getByLabel("Institution", { exact: true }).selectOption(PARTNER_ORIGIN);
  await page.getByLabel("Signed data-use agreement (file)").setInputFiles({
    name: "dua-2026-002.txt",
    mimeType: "text/plain",
    buffer: agreement,
  });
  await expect.poll(() => page.getByLabel("Data-use agreement SHA-256").inputValue()).toBe(sha256(agreement));
  await page.getByLabel("Expires (optional)").fill("2099-12-31");
  await page.getByRole("button", { name: "Share version 2" }).click();
  await page.locator('[data-testid="shared"]').waitFor();
  const share = entriesOf("dataset.shared").at(-1)!;
  expect(share.actor).toBe("curator-1");
  expect(share.body).toEqual({
    grantee: PARTNER_ORIGIN,
    dataUseAgreement: sha256(agreement),
    purpose: "HRESCH",
    expires: "2099-12-31T23:59:59.999Z",
  });
  expect(share.refs).toEqual({ dataset: dataset.id, version: sealId });
  await expect.poll(() => page.locator('[data-testid="shares"] tbody tr').count()).toBe(2);
  await expectAccessible(page, "a dataset after sealing and sharing");
  await screenshots(page, "datasets-sealed-shared");

  // The new version's bundle: complete (the verifier checks the seal's root and contributors), on the log's key.
  const bundle = await downloadAndVerify(() =>
    page.getByRole("button", { name: "Download bundle (version 2)" }).click(),
  );
  expect(bundle.report.kind).toBe("dataset");
  expect(bundle.report.subject).toEqual({ id: dataset.id, version: 2 });
  expect(bundle.report.byType["dataset.shared"]).toBe(1);
  await signOut(page);
});

test("the researcher sees datasets read-only: no seal or share, and the node refuses them anyway", async () => {
  const node = web.api.t.node;
  const dataset = listDatasets(node.store).items[0]!;
  const sealsBefore = entriesOf("dataset.version.sealed").length;
  await signIn(page, web, "researcher");
  expect(page.url()).toMatch(/\/datasets$/);
  await page.getByRole("link", { name: "Demo stroke MR dataset" }).click();
  await page.getByRole("heading", { name: "Dataset Demo stroke MR dataset" }).waitFor();
  await page.locator('[data-testid="credits"]').waitFor();
  await page.locator('[data-testid="items"]').waitFor();
  expect(await page.getByRole("button", { name: /^Seal version/ }).count()).toBe(0);
  expect(await page.getByRole("heading", { name: "Share with an institution" }).count()).toBe(0);
  expect(await page.getByRole("button", { name: /^Share version/ }).count()).toBe(0);
  // Credits and the citation are for everyone who reads the dataset.
  expect(await page.getByLabel("Citation").inputValue()).toContain("version 2");
  await expectAccessible(page, "a dataset (researcher)");
  await screenshots(page, "datasets-researcher");

  // The same requests the curator's page makes, from the researcher's session: refused with codes.
  // A well-formed body (the node's own proposal for version 3): only the role is wrong.
  const body = proposeSeal(node.store, node.crypto, dataset.id);
  const refused = await page.evaluate(
    async ([id, sealBody]) => {
      const proposal = await fetch(`/api/v1/datasets/${id}/seal-proposal`);
      const seal = await fetch("/api/v1/entries/dataset.version.sealed", {
        method: "POST",
        headers: { "content-type": "application/json", "x-radledger-csrf": "1" },
        body: JSON.stringify({
          body: sealBody,
          refs: { dataset: id },
        }),
      });
      return [
        { status: proposal.status, code: ((await proposal.json()) as { code: string }).code },
        { status: seal.status, code: ((await seal.json()) as { code: string }).code },
      ];
    },
    [dataset.id, body] as const,
  );
  expect(refused).toEqual([
    { status: 403, code: "FORBIDDEN_ROLE" },
    { status: 403, code: "ROLE_NOT_PERMITTED" },
  ]);
  expect(entriesOf("dataset.version.sealed")).toHaveLength(sealsBefore);
  await signOut(page);
});
