/**
 * The web app in end-to-end tests (docs/web.md): a node seeded with the demo's scene (every persona
 * with a password of their own, so sign-in asks for no change), a real Chromium, sign-in through
 * the page, an accessibility check with axe-core, and screenshots at phone and desktop widths
 * written to test-output/screenshots/ (RADLEDGER_SCREENSHOTS overrides), which CI keeps.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { setPassword } from "../../src/app/credentials.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "./api.js";
import { launchChromium } from "./chromium.js";

/** One demo actor per persona (src/app/demo/clinical.ts). */
export const PERSONAS = {
  patient: "patient-0001",
  radiologist: "rad-neuro-1",
  clinician: "clin-er-1",
  auditor: "auditor-1",
  coordinator: "trial-coord-1",
  sponsor: "sponsor-monitor-1",
  curator: "curator-1",
  researcher: "researcher-1",
  admin: "admin",
} as const;
export type Persona = keyof typeof PERSONAS;

export interface WebNode {
  readonly api: TestApi;
  readonly url: string;
  readonly passwords: Record<Persona, string>;
  close(): Promise<void>;
}

/** A node with the demo scene and a password per persona, served on 127.0.0.1. */
export async function startWebNode(): Promise<WebNode> {
  const api = await startApi();
  await seedDemo(api.t.node, nodeFactory);
  const passwords = {} as Record<Persona, string>;
  for (const [persona, actor] of Object.entries(PERSONAS) as [Persona, string][]) {
    passwords[persona] = `test-password-${persona}-${actor}`;
    // Set as the person's own (setBy = the actor): no change asked at sign-in. On the log like any.
    await setPassword(api.t.node, api.app.radledger.auth, actor, passwords[persona], actor);
  }
  return { api, url: api.url, passwords, close: () => api.close() };
}

export type Browser = Awaited<ReturnType<typeof launchChromium>>;
export { launchChromium };

/** Signs in through the sign-in page and waits to land in the person's area. */
export async function signIn(page: Page, web: WebNode, persona: Persona): Promise<void> {
  await page.goto(`${web.url}/sign-in`);
  await page.getByLabel("Account (actor id)").fill(PERSONAS[persona]);
  await page.getByLabel("Password", { exact: true }).fill(web.passwords[persona]);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
}

/** Signs out through the menu. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in$/);
}

/** axe-core (WCAG 2.1 A/AA rules): no serious or critical violation on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `accessibility of ${what}`).toEqual([]);
}

export const SCREENSHOTS =
  process.env.RADLEDGER_SCREENSHOTS ?? join(import.meta.dirname, "../../test-output/screenshots");

/** Full-page screenshots at 390 px (a phone) and 1440 px; the page never scrolls sideways. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  for (const width of [390, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

/** An entry on the node's log, as the tests read it back. */
export interface LogEntry {
  readonly type: string;
  readonly actor: string;
  readonly key: string;
  readonly body: Record<string, unknown>;
}

/** Every entry of one type on the web node's log, in log order. */
export function logEntries(web: WebNode, type: string): LogEntry[] {
  const out: LogEntry[] = [];
  const t = web.api.t;
  for (let i = 0; i < t.node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(t.node.store.readEntry(i)!.bytes)) as LogEntry;
    if (e.type === type) out.push(e);
  }
  return out;
}
