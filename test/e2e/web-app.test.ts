/**
 * The web application's frame in a real Chromium (docs/web.md): the node serves the app on the API's
 * origin with a strict CSP and immutable hashed assets; a person signs in with the session cookie
 * (choosing their own password when an admin set it), which page script can never read; a change
 * made with the cookie but without the app's CSRF header is refused; signing out revokes the session
 * on the log; the app shows a refusal, not a crash, for unknown pages and wrong passwords.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { startApi, type TestApi } from "../helpers/api.js";
import { launchChromium } from "../helpers/chromium.js";
import { fromUtf8 } from "../../src/core/bytes.js";

const PASSWORD = "admin-chosen-password-1";
const OWN = "my-own-good-password-2";

let api: TestApi;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const violations: string[] = [];

function entriesOf(type: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < api.t.node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(api.t.node.store.readEntry(i)!.bytes)) as { type: string; body: never };
    if (e.type === type) out.push(e.body);
  }
  return out;
}

beforeAll(async () => {
  api = await startApi();
  const admin = await api.token("admin");
  const enrolled = await api.call("POST", "/api/v1/actors", {
    token: admin,
    body: {
      actorId: "rad-web",
      kind: "staff",
      roles: ["radiologist"],
      displayName: "Dr Web",
      password: PASSWORD,
    },
  });
  expect(enrolled.status).toBe(201);
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
  });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await api.close();
});

test("the app is served with a strict CSP, its assets hashed and cached as immutable; the API stays JSON", async () => {
  const res = await fetch(`${api.url}/`, { headers: { accept: "text/html" } });
  expect(res.status).toBe(200);
  const csp = res.headers.get("content-security-policy")!;
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get("cache-control")).toBe("no-cache");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const html = await res.text();
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
  const js = /src="(\/assets\/app-[\w-]+\.js)"/.exec(html)![1]!;
  const asset = await fetch(`${api.url}${js}`);
  expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  expect(asset.headers.get("content-type")).toContain("text/javascript");
  // An unknown API path, an asset that does not exist, a path escape: JSON problems, never the app.
  for (const path of ["/api/v1/nope", "/assets/nope-1.js", "/assets/..%2f..%2fpackage.json"]) {
    const r = await fetch(`${api.url}${path}`, { headers: { accept: "text/html" } });
    expect(r.status, path).toBe(404);
    expect(r.headers.get("content-type"), path).toContain("application/problem+json");
  }
  // The standalone verifier is a download, never a page of this origin.
  const standalone = await fetch(`${api.url}/verifier.html`);
  expect(standalone.headers.get("content-disposition")).toContain("attachment");
});

test("sign-in: a wrong password is refused with its code; an admin-set password must be replaced first", async () => {
  await page.goto(`${api.url}/audit`);
  // Not signed in: sent to sign-in, coming back afterwards.
  await page.waitForURL(/\/sign-in\?next=%2Faudit$/);
  await page.getByLabel("Account (actor id)").fill("rad-web");
  await page.getByLabel("Password", { exact: true }).fill("wrong-password-123");
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await expect
    .poll(() => page.getAttribute('[data-testid="problem"]', "data-code"))
    .toBe("AUTH_CREDENTIALS_INVALID");

  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await page.getByLabel("New password").waitFor();
  await page.getByLabel("New password").fill(OWN);
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await page.waitForURL(/\/audit$/);
  // A radiologist is not an auditor: the page says so (the API would refuse anyway).
  await page.getByText("Not available to your role").waitFor();
  expect(await page.innerText('[data-testid="whoami"]')).toContain("Dr Web");
  expect(entriesOf("password.set")).toContainEqual({ actorId: "rad-web", setBy: "rad-web" });
});

test("the session cookie is HttpOnly and SameSite=Strict; page script cannot read it", async () => {
  const cookies = await browser.context.cookies(api.url);
  const session = cookies.find((c) => c.name === "radledger_session")!;
  expect(session.httpOnly).toBe(true);
  expect(session.sameSite).toBe("Strict");
  expect(session.path).toBe("/");
  expect(await page.evaluate(() => document.cookie)).not.toContain("radledger_session");
  // The app's requests work with it…
  expect(await page.evaluate(async () => (await fetch("/api/v1/auth/me")).status)).toBe(200);
});

test("a change made with the cookie but without the app's CSRF header is refused (CSRF_REJECTED)", async () => {
  const answer = await page.evaluate(async () => {
    const r = await fetch("/api/v1/auth/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    return { status: r.status, body: (await r.json()) as { code: string } };
  });
  expect(answer.status).toBe(403);
  expect(answer.body.code).toBe("CSRF_REJECTED");
  // Same header, another origin: refused too.
  const cookie = (await browser.context.cookies(api.url)).find((c) => c.name === "radledger_session")!;
  const foreign = await fetch(`${api.url}/api/v1/auth/tokens`, {
    method: "POST",
    headers: {
      cookie: `radledger_session=${cookie.value}`,
      "x-radledger-csrf": "1",
      origin: "https://evil.example",
      "content-type": "application/json",
    },
    body: "{}",
  });
  expect(foreign.status).toBe(403);
  expect(((await foreign.json()) as { code: string }).code).toBe("CSRF_REJECTED");
});

test("unknown pages show the app's not-found page; signing out revokes the session on the log", async () => {
  await page.goto(`${api.url}/no/such/page`);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  expect(await page.title()).toBe("Page not found — radledger");
  const cookie = (await browser.context.cookies(api.url)).find((c) => c.name === "radledger_session")!;
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in$/);
  expect(
    (await browser.context.cookies(api.url)).find((c) => c.name === "radledger_session"),
  ).toBeUndefined();
  // The old cookie value is a revoked token now, not only a forgotten one.
  const replay = await fetch(`${api.url}/api/v1/auth/me`, {
    headers: { cookie: `radledger_session=${cookie.value}` },
  });
  expect(replay.status).toBe(401);
  expect(((await replay.json()) as { code: string }).code).toBe("AUTH_TOKEN_REVOKED");
  expect(entriesOf("token.revoked").some((b) => (b as { actorId: string }).actorId === "rad-web")).toBe(true);
  expect(violations).toEqual([]);
});
