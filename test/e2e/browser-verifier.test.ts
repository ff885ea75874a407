/**
 * The browser verifier in a real Chromium: the node serves /verify; a valid and a tampered bundle are
 * dropped onto the page (a drop event carrying the file, as a person's drag and drop does) and the
 * verdicts are read from the page. The same page saved as a file verifies too. The page makes no
 * request while verifying: the core runs in a Web Worker in the browser. Its verdicts are the CLI's
 * trust states: VERIFIED only with a log key the person gives (pasted, picked from a file, or named by
 * a loaded policy), UNTRUSTED when the bundle checks out only against its own key, FAILED otherwise;
 * a malformed key is an input error, not the bundle's failure.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildServer } from "../../src/api/server.js";
import { prepareBundle, writeBundleFile } from "../../src/app/bundle-export.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { seedBundleFixture, type BundleFixture } from "../helpers/bundle-fixture.js";
import { launchChromium } from "../helpers/chromium.js";
import { openAuthStore } from "../../src/wiring/auth.js";

let t: TestNode;
let fx: BundleFixture;
let work: { path: string; remove(): void };
let valid: string;
let tampered: string;

beforeAll(async () => {
  t = await makeNode();
  work = tempDir("radledger-browser-");
  fx = await seedBundleFixture(t, join(work.path, "files"));
  valid = join(work.path, "report.radledger.tar");
  await writeBundleFile(prepareBundle(t.node, { kind: "report", id: fx.report }).members, valid);
  const bytes = readFileSync(valid);
  const i = bytes.indexOf('"sig":"', bytes.indexOf("report.signed") - 600) + 10;
  bytes[i] = bytes[i] === 0x41 ? 0x42 : 0x41; // another base64 letter in a signature
  tampered = join(work.path, "tampered.radledger.tar");
  writeFileSync(tampered, bytes);
});
afterAll(async () => {
  await t.close();
  work.remove();
});

async function dropFile(page: Page, path: string): Promise<void> {
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

async function verdictOf(page: Page): Promise<{ state: string; verdict: string; report: string }> {
  await page.waitForSelector(FINAL, { timeout: 60_000 });
  return {
    state: (await page.getAttribute("#verdict", "data-state"))!,
    verdict: await page.innerText("#verdict"),
    report: await page.innerText("#report"),
  };
}

test("served page: a dropped valid bundle verifies, a tampered one fails with what and where", async () => {
  const app = buildServer(t.node, { auth: openAuthStore(t.dir) });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${url}/verify`);
    expect(await page.title()).toMatch(/verify a bundle/i);
    await page.fill("#log-keys", t.node.verifierKey);
    const before = requests.length;

    await dropFile(page, valid);
    const ok = await verdictOf(page);
    expect(ok.state).toBe("verified");
    expect(ok.verdict).toContain("VERIFIED");
    expect(ok.report).toContain(`VERIFIED: report bundle for ${fx.report}`);
    expect(ok.report).toContain("key given by you");
    expect(ok.report).toContain("Dr Neuro (rad-neuro) [radiologist]");

    await dropFile(page, tampered);
    const bad = await verdictOf(page);
    expect(bad.state).toBe("failed");
    expect(bad.report).toMatch(
      /ENTRY_BAD_SIGNATURE: entries\/\d+:\d+: the signature does not verify|ROOT_MISMATCH: inclusion-proof:/,
    );
    expect(bad.report).not.toMatch(/\d+ entr(y|ies) verified/);
    // Verification sent nothing anywhere: the only requests are for the verifier's own code.
    expect(
      requests
        .slice(before)
        .filter((u) => !/^http:\/\/127\.0\.0\.1:\d+\/assets\/verify-worker-[\w-]+\.js$/.test(u)),
    ).toEqual([]);
  } finally {
    await browser.close();
    await app.close();
  }
});

test("the page saved as a file verifies offline the same way", async () => {
  const saved = join(work.path, "verify.html");
  copyFileSync(join(import.meta.dirname, "../../dist/web/verifier.html"), saved);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`file://${saved}`);
    await page.fill("#log-keys", t.node.verifierKey);
    await page.setInputFiles("#file", valid);
    expect((await verdictOf(page)).state).toBe("verified");
  } finally {
    await browser.close();
  }
});

test("without a trusted key the page shows UNTRUSTED, as the CLI does; a key file, a policy or a bad key", async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`file://${join(import.meta.dirname, "../../dist/web/verifier.html")}`);

    // No key: every check passes, but only against the bundle's own key.
    await page.setInputFiles("#file", valid);
    const untrusted = await verdictOf(page);
    expect(untrusted.state).toBe("untrusted");
    expect(untrusted.verdict).toMatch(/^UNTRUSTED/);
    expect(untrusted.verdict).not.toContain("VERIFIED");
    expect(untrusted.report).toMatch(new RegExp(`^UNTRUSTED: report bundle for ${fx.report}`));
    expect(untrusted.report).not.toMatch(/\d+ entr(y|ies) verified/);

    // The tampered bundle fails without a key too.
    await dropFile(page, tampered);
    expect((await verdictOf(page)).state).toBe("failed");

    // A malformed key is the input's fault: nothing is verified.
    await page.fill("#log-keys", "not-a-key");
    await dropFile(page, valid);
    const input = await verdictOf(page);
    expect(input.state).toBe("input-error");
    expect(input.verdict).toContain("KEY_STRING_MALFORMED");
    expect(input.verdict).toContain("--log-key");
    expect(input.report).toBe("");

    // The key picked from a file.
    await page.fill("#log-keys", "");
    const keyFile = join(work.path, "log.vkey");
    writeFileSync(keyFile, `${t.node.verifierKey}\n`);
    await page.setInputFiles("#log-key-file", keyFile);
    await page.waitForFunction(
      () => (document.getElementById("log-keys") as HTMLTextAreaElement).value !== "",
    );
    await dropFile(page, valid);
    expect((await verdictOf(page)).state).toBe("verified");

    // A consortium policy naming the log's key.
    await page.fill("#log-keys", "");
    const policy = join(work.path, "consortium.policy");
    writeFileSync(policy, `log ${t.node.verifierKey}\nquorum none\n`);
    await page.setInputFiles("#policy", policy);
    await dropFile(page, valid);
    const byPolicy = await verdictOf(page);
    expect(byPolicy.state).toBe("verified");
    expect(byPolicy.report).toContain("key named by your policy");
  } finally {
    await browser.close();
  }
});
