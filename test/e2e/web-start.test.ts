/**
 * Every persona signs in through the page and lands in their own area, with the menu of their roles;
 * the public pages (start, sign-in, verify) pass axe-core and fit a phone and a desktop.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import {
  expectAccessible,
  launchChromium,
  PERSONAS,
  screenshots,
  signIn,
  signOut,
  startWebNode,
  type Browser,
  type Persona,
  type WebNode,
} from "../helpers/web.js";

let web: WebNode;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  web = await startWebNode();
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 120_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

test("the public pages pass axe-core and fit 390 and 1440 px", async () => {
  for (const [path, name] of [
    ["/", "start"],
    ["/sign-in", "sign-in"],
    ["/verify", "verify"],
  ] as const) {
    await page.goto(`${web.url}${path}`);
    await page.locator("h1").waitFor();
    await expectAccessible(page, path);
    await screenshots(page, name);
  }
});

const LANDING: Record<Persona, RegExp> = {
  patient: /\/patient$/,
  radiologist: /\/reading$/,
  clinician: /\/reading$/,
  auditor: /\/audit$/,
  coordinator: /\/trials$/,
  sponsor: /\/trials$/,
  curator: /\/datasets$/,
  researcher: /\/datasets$/,
  admin: /\/admin$/,
};

test("each persona signs in and lands in their own area; the menu shows their areas only", async () => {
  for (const persona of Object.keys(PERSONAS) as Persona[]) {
    await signIn(page, web, persona);
    expect(page.url(), persona).toMatch(LANDING[persona]);
    const menu = await page.getByRole("navigation", { name: "Main" }).innerText();
    expect(menu.includes("Admin"), persona).toBe(persona === "admin");
    expect(menu.includes("My record"), persona).toBe(persona === "patient");
    await signOut(page);
  }
});
