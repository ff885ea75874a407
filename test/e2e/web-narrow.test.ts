/**
 * Tables on a phone (issue 20: "Works at 390 px wide and at 1440 px"; docs/web.md "Design system"):
 * below 640 px every DataTable row is a card of labelled cells, so nothing sits off-screen behind a
 * sideways scroll — the patient's grants (Status, Revoke) and access history (Why, Basis) included —
 * and the Revoke button is reachable where it is drawn. At 1440 px it is a plain table. At both
 * widths assistive technology gets a table with column headers (explicit ARIA table roles, because
 * Chromium drops the semantics of table elements laid out as blocks), and axe-core stays clean.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Locator, Page } from "playwright-core";
import {
  expectAccessible,
  launchChromium,
  logEntries,
  screenshots,
  signIn,
  startWebNode,
  type Browser,
  type WebNode,
} from "../helpers/web.js";

const PHONE = { width: 390, height: 900 };
const DESKTOP = { width: 1440, height: 900 };

let web: WebNode;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  web = await startWebNode();
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("dialog", (d) => void d.accept());
  await page.setViewportSize(PHONE);
  await signIn(page, web, "patient");
}, 180_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

const nav = (name: string): Locator =>
  page.getByRole("navigation", { name: "My record" }).getByRole("link", { name });

/**
 * Every cell of the table's first row lies inside the 390 px viewport (no part of it needs a
 * sideways scroll), its column's label is shown beside it, and the table's own region does not
 * scroll sideways either.
 */
async function firstRowFits(table: Locator, headers: readonly string[]): Promise<void> {
  const row = table.getByRole("row").nth(1); // row 0 holds the column headers
  await row.waitFor();
  const cells = row.getByRole("cell");
  expect(await cells.count()).toBe(headers.length);
  // Boxes as laid out, without scrolling anything (a locator's scrollIntoView would scroll the
  // table's region sideways and hide the very problem this checks).
  const boxes = await cells.evaluateAll((tds) =>
    tds.map((td) => {
      const r = td.getBoundingClientRect();
      return { left: Math.floor(r.left), right: Math.ceil(r.right) };
    }),
  );
  const offScreen = headers.filter((_, i) => boxes[i]!.left < 0 || boxes[i]!.right > PHONE.width);
  expect(offScreen, "columns off the 390 px screen").toEqual([]);
  // The visible label of each cell is its column's header (CSS generated content from data-label).
  const labels = await cells.evaluateAll((tds) => tds.map((td) => getComputedStyle(td, "::before").content));
  headers.forEach((h, i) => expect(labels[i], `${h} is labelled`).toContain(h));
  const sideways = await table.evaluate((t) => {
    const wrap = t.parentElement!;
    return { scroll: wrap.scrollWidth - wrap.clientWidth, left: wrap.scrollLeft };
  });
  expect(sideways).toEqual({ scroll: 0, left: 0 });
}

/** Still a table for assistive technology: named, with its column headers and cells. */
async function isTable(table: Locator, caption: string, headers: readonly string[]): Promise<void> {
  await expect
    .poll(() => page.getByRole("table", { name: caption }).getAttribute("data-testid"))
    .toBe(await table.getAttribute("data-testid"));
  expect(
    await table
      .getByRole("columnheader")
      .allInnerTexts()
      .then((t) => t.length),
  ).toBe(headers.length);
  for (const h of headers) expect(await table.getByRole("columnheader", { name: h }).count()).toBe(1);
}

/**
 * What Chromium itself gives assistive technology (its accessibility tree over CDP, not
 * Playwright's model of it): a table with these column headers whose cells are not named after
 * their visible labels (the labels' CSS alt text is empty, so a header is heard once).
 */
async function chromiumSeesTable(headers: readonly string[]): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as {
    nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[];
  };
  await cdp.detach();
  const seen = nodes.filter((n) => !n.ignored);
  const named = (role: string): string[] =>
    seen.filter((n) => n.role?.value === role).map((n) => n.name?.value ?? "");
  expect(named("table")).toHaveLength(1);
  expect(named("columnheader")).toEqual(headers);
  const cells = named("cell");
  expect(cells.length % headers.length).toBe(0);
  cells.forEach((name, i) => expect(name.startsWith(headers[i % headers.length]!)).toBe(false));
}

const ACCESS_HEADERS = ["When", "Who", "What", "Why", "Basis"];
const GRANT_HEADERS = ["With", "What", "Purpose", "From", "Until", "Status", "Action"];

test("at 390 px the access history is a stack of labelled cards: every column of a row is on screen", async () => {
  const table = page.getByTestId("accesses");
  await firstRowFits(table, ACCESS_HEADERS);
  await isTable(table, "Accesses to my record", ACCESS_HEADERS);
  await chromiumSeesTable(ACCESS_HEADERS);
  await expectAccessible(page, "patient accesses at 390 px");
  await screenshots(page, "narrow-patient-accesses");
});

test("at 390 px a grant's Status and Revoke are on screen; Revoke works where it is drawn, without sideways scrolling", async () => {
  await nav("Sharing").click();
  await page.getByLabel("Who (id)").fill("rad-neuro-1");
  await page.getByRole("button", { name: "Share", exact: true }).click();
  await page.getByTestId("done").getByText("Shared").waitFor();
  const table = page.getByTestId("grants");
  await firstRowFits(table, GRANT_HEADERS);
  await isTable(table, "Your grants", GRANT_HEADERS);
  await chromiumSeesTable(GRANT_HEADERS);
  await expectAccessible(page, "patient sharing at 390 px");
  await screenshots(page, "narrow-patient-sharing");

  const revoke = page.getByRole("button", { name: "Stop sharing with rad-neuro-1" });
  // Scroll the page down to it (vertically only: the mouse click below must not need a sideways scroll).
  await revoke.evaluate((b) => window.scrollTo(0, b.getBoundingClientRect().top + window.scrollY - 200));
  const box = (await revoke.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height).toBeLessThanOrEqual(PHONE.height);
  // A click at the point where the button is drawn (the mouse, unlike locator.click, scrolls nothing).
  const revokedBefore = logEntries(web, "consent.revoked").length;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.getByTestId("done").getByText("Stopped sharing").waitFor();
  const revoked = logEntries(web, "consent.revoked");
  expect(revoked.length).toBe(revokedBefore + 1);
  expect(revoked.at(-1)!.actor).toBe("patient-0001");
  // The revoked grant has no Revoke: its card's Action line shows a dash, not a bare label.
  const action = table.getByRole("row").filter({ hasText: "rad-neuro-1" }).getByRole("cell").last();
  await expect
    .poll(() => action.evaluate((td) => getComputedStyle(td.firstElementChild!, "::after").content))
    .toContain("—");
});

test("at 1440 px it is a real table: column headers in one row above the cells, no card labels", async () => {
  await page.setViewportSize(DESKTOP);
  const table = page.getByTestId("grants");
  await isTable(table, "Your grants", GRANT_HEADERS);
  const tops = await table
    .getByRole("columnheader")
    .evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().top)));
  expect(new Set(tops).size).toBe(1);
  const layout = await table.evaluate((t) => ({
    table: getComputedStyle(t).display,
    cell: getComputedStyle(t.querySelector("td")!).display,
    label: getComputedStyle(t.querySelector("td")!, "::before").content,
  }));
  expect(layout).toEqual({ table: "table", cell: "table-cell", label: "none" });
  await expectAccessible(page, "patient sharing at 1440 px");

  await nav("Who looked at my record").click();
  await isTable(page.getByTestId("accesses"), "Accesses to my record", ACCESS_HEADERS);
});
