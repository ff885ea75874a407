/**
 * The admin's journey in a real Chromium (docs/web.md "Admin"): node health, enrolling a person
 * (keyboard only), granting a role, resetting a password, revoking a key, issuing and revoking a
 * system actor's token — each checked on the log — and a refused enrolment shown with its code.
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

const entries = (type: string): LogEntry[] => logEntries(web, type);

beforeAll(async () => {
  web = await startWebNode();
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("dialog", (d) => void d.accept());
  await signIn(page, web, "admin");
}, 120_000);
afterAll(async () => {
  await browser.close();
  await web.close();
});

test("node health: ready, the log, and — without a consortium — no witnesses (said, not hidden)", async () => {
  expect(page.url()).toMatch(/\/admin$/);
  await page.getByTestId("readiness").getByText("Ready").waitFor();
  await page.getByTestId("consortium").getByText("no consortium is configured").waitFor();
  await expectAccessible(page, "admin health");
  await screenshots(page, "admin-health");
});

test("enrolling a person with the keyboard only: actor.enrolled on the log, signed by the admin", async () => {
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Actors" }).click();
  await page.getByRole("heading", { name: "Enrolled actors" }).waitFor();
  await expectAccessible(page, "admin actors");
  await screenshots(page, "admin-actors");
  await page.getByLabel("Actor id").focus();
  await page.keyboard.type("rad-new-1");
  await page.keyboard.press("Tab"); // kind: staff
  await page.keyboard.press("Tab"); // role: radiologist
  await page.keyboard.press("Tab");
  await page.keyboard.type("Dr New");
  await page.keyboard.press("Tab");
  await page.keyboard.type("first-password-123");
  await page.keyboard.press("Enter");
  await page.getByTestId("enrolled").waitFor();
  const enrolled = entries("actor.enrolled").find((e) => e.body.actorId === "rad-new-1")!;
  expect(enrolled.actor).toBe("admin");
  expect(enrolled.body).toMatchObject({ kind: "staff", roles: ["radiologist"], displayName: "Dr New" });
  expect(entries("password.set").at(-1)!.body).toEqual({ actorId: "rad-new-1", setBy: "admin" });

  // The same id again: refused, and the page says why with the code.
  await page.getByLabel("Actor id").fill("rad-new-1");
  await page.getByRole("button", { name: "Enrol" }).click();
  expect(await page.getByTestId("problem").getAttribute("data-code")).toBe("ACTOR_ALREADY_ENROLLED");
});

test("an actor's page: grant a role, reset the password, revoke a key — each an entry by the admin", async () => {
  await page.getByTestId("enrolled").getByRole("link", { name: "rad-new-1" }).click();
  await page.getByRole("heading", { name: "Actor rad-new-1" }).waitFor();
  await page.getByLabel("Role to grant").selectOption("clinician");
  await page.getByRole("button", { name: "Grant role" }).click();
  await page.getByRole("list", { name: "Current roles" }).getByText("clinician").waitFor();
  expect(entries("role.granted").at(-1)).toMatchObject({
    actor: "admin",
    body: { actorId: "rad-new-1", role: "clinician" },
  });

  await page.getByLabel("New password").fill("reset-password-4567");
  await page.getByRole("button", { name: "Reset password" }).click();
  await page.getByTestId("password-reset").waitFor();
  expect(entries("password.set").at(-1)).toMatchObject({
    actor: "institution",
    body: { actorId: "rad-new-1", setBy: "admin" },
  });

  await page.getByRole("button", { name: "Revoke key" }).click();
  await page.getByTestId("key-revoked").waitFor();
  expect(entries("key.revoked").at(-1)).toMatchObject({
    actor: "admin",
    body: { actorId: "rad-new-1", reason: "compromised" },
  });
  await expectAccessible(page, "admin actor");
  await screenshots(page, "admin-actor");
});

test("tokens: a system actor's token is shown once and is on the log; a person's is refused; revoke", async () => {
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "API tokens" }).click();
  await page.getByLabel("System actor", { exact: true }).fill("clin-er-1");
  await page.getByRole("button", { name: "Issue token" }).click();
  expect(await page.getByTestId("problem").getAttribute("data-code")).toBe("TOKEN_NOT_ISSUABLE");

  await page.getByLabel("System actor", { exact: true }).fill("ai-engine-1");
  await page.getByLabel("Label", { exact: true }).fill("orchestrator");
  await page.getByRole("button", { name: "Issue token" }).click();
  const token = (await page.getByTestId("issued-token").locator("code").innerText()).trim();
  expect(token).toMatch(/^rl_[0-9a-f]{16}_/);
  const id = token.slice(3, 19);
  expect(entries("token.issued").at(-1)!.body).toMatchObject({ actorId: "ai-engine-1", issuedBy: "admin" });
  expect(
    (await fetch(`${web.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status,
  ).toBe(200);

  await page.getByRole("button", { name: `Revoke token ${id}` }).click();
  await expect
    .poll(
      async () =>
        (await fetch(`${web.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status,
    )
    .toBe(401);
  expect(entries("token.revoked").at(-1)!.body).toMatchObject({ actorId: "ai-engine-1" });
  await expectAccessible(page, "admin tokens");
  await screenshots(page, "admin-tokens");
});

test("a patient's enrolment code: shown once, enrolment-code.issued on the log naming the admin", async () => {
  await page.goto(`${web.url}/admin/actors/patient-0001`);
  await page.getByText("the node holds this patient's key").waitFor();
  await page.getByRole("button", { name: "Issue enrolment code" }).click();
  const code = (await page.getByTestId("enrolment-code").locator("code").innerText()).trim();
  expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
  const issued = entries("enrolment-code.issued").at(-1)!;
  expect(issued.body).toMatchObject({ actorId: "patient-0001", issuedBy: "admin" });
  // The log names the code's public id, never the secret part.
  expect(JSON.stringify(issued)).not.toContain(code.replaceAll("-", "").slice(8));
  await expectAccessible(page, "admin patient actor");
});
