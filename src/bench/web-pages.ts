/**
 * The web app's page benchmark (issue 20, "Speed"; docs/performance.md "Web app"): serves a data
 * directory made by `radledger bench seed` (1,000,000 entries, a patient with 10,000 accesses),
 * signs in through the page as each persona in DIR/bench-users.json, and times each page's main view
 * in a real Chromium — from navigation until the page shows its data — over several rounds; reports
 * p50/p95 per page and the app's JavaScript size (gzip).
 *
 * "Shows its data" is, per page: its heading is up, nothing is loading (no `.loading` status and
 * no "Loading…" text) and the page's own data marker is in the DOM (PAGES' `ready`: the table or
 * list its main API call fills). The heading alone is not enough: a page's own loading label
 * ("Loading the queue…") or an empty table drawn before the data arrives would otherwise count as
 * the finished view, timing the skeleton instead of the data.
 *
 * Usage: node dist/bench/web-pages.js --data DIR [--rounds N] [--out FILE] [--only PATH,...]
 *        [--dist DIR]   (serve and size another build's dist/, for an A/B against this bench)
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { launchChromium } from "./chromium.js";

interface User {
  readonly persona: string;
  readonly actor: string;
  readonly password: string;
}

interface BenchPage {
  readonly path: string;
  /** CSS selectors that must all match inside <main> once the page shows its data. */
  readonly ready: readonly string[];
}

const PAGES: Readonly<Record<string, readonly BenchPage[]>> = {
  patient: [
    { path: "/patient", ready: ["[data-testid=accesses] tbody tr"] },
    { path: "/patient/sharing", ready: ["[data-testid=custody]", "[data-testid=grants]"] },
  ],
  radiologist: [
    { path: "/reading", ready: ["[data-testid=worklist-reports]", "[data-testid=worklist-studies]"] },
  ],
  auditor: [
    {
      path: "/audit/break-glass",
      ready: ["[data-testid=break-glass-queue] section, [data-testid=queue-empty]"],
    },
    { path: "/audit/ai-recall", ready: ["form, .empty"] },
  ],
  admin: [
    { path: "/admin", ready: ["dl"] },
    { path: "/admin/actors", ready: ["[data-testid=actors] tbody tr"] },
    { path: "/admin/tokens", ready: ["[data-testid=tokens]"] },
  ],
  "": [
    { path: "/explorer", ready: ["[data-testid=log-size]", "[data-testid=recent]"] },
    { path: "/verify", ready: ["input[type=file]"] },
  ],
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: "string" },
      rounds: { type: "string", default: "20" },
      port: { type: "string", default: "18471" },
      out: { type: "string", default: "bench-results/web-pages.json" },
      only: { type: "string" },
      dist: { type: "string" },
    },
  });
  if (values.data === undefined) throw new Error("--data DIR (made by radledger bench seed) is required");
  const rounds = Number(values.rounds);
  const only = values.only?.split(",");
  const root = values.dist ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const users = (JSON.parse(readFileSync(join(values.data, "bench-users.json"), "utf8")) as { users: User[] })
    .users;
  const assets = join(root, "web/app/assets");
  const jsGzip = readdirSync(assets)
    .filter((f) => f.startsWith("app-") && f.endsWith(".js"))
    .reduce((n, f) => n + gzipSync(readFileSync(join(assets, f))).length, 0);

  const url = `http://127.0.0.1:${values.port}`;
  const serve = spawn(
    process.execPath,
    [join(root, "cli/main.js"), "serve", "--data", values.data, "--port", values.port],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    serve.stdout.on("data", (b: Buffer) => {
      if (b.toString().includes(url)) resolve();
    });
    serve.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const browser = await launchChromium();
  const results: { persona: string; page: string; p50: number; p95: number; max: number }[] = [];
  try {
    for (const [persona, paths] of Object.entries(PAGES)) {
      await browser.context.clearCookies(); // signed out: the next persona signs in
      const pages = paths.filter((p) => only === undefined || only.includes(p.path));
      const user = users.find((u) => u.persona === persona);
      if (pages.length === 0 || (persona !== "" && !user)) continue;
      const page = await browser.context.newPage();
      if (user) {
        await page.goto(`${url}/sign-in`);
        await page.getByLabel("Account (actor id)").fill(user.actor);
        await page.getByLabel("Password", { exact: true }).fill(user.password);
        await page.getByLabel("Password", { exact: true }).press("Enter");
        await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"), { timeout: 60_000 });
      }
      for (const { path, ready } of pages) {
        const times: number[] = [];
        for (let i = 0; i < rounds + 1; i++) {
          const t0 = performance.now();
          await page.goto(`${url}${path}`, { waitUntil: "commit" });
          // textContent, not innerText: polled every frame, it must not force a layout itself.
          await page.waitForFunction(
            (selectors) => {
              const main = document.querySelector("main");
              if (!main || main.querySelector("h1") === null || main.querySelector(".loading") !== null)
                return false;
              if (main.textContent.includes("Loading…")) return false;
              return selectors.every((s) => main.querySelector(s) !== null);
            },
            ready,
            { timeout: 60_000, polling: "raf" },
          );
          if (i > 0) times.push(performance.now() - t0); // the first round warms caches
        }
        times.sort((a, b) => a - b);
        const r = {
          persona: persona || "anyone",
          page: path,
          p50: percentile(times, 50),
          p95: percentile(times, 95),
          max: times.at(-1)!,
        };
        results.push(r);
        console.log(
          `${r.persona.padEnd(12)} ${path.padEnd(20)} p50 ${r.p50.toFixed(0)} ms  p95 ${r.p95.toFixed(0)} ms`,
        );
      }
      await page.close();
    }
  } finally {
    await browser.close();
    serve.kill("SIGTERM");
  }
  const out = {
    when: new Date().toISOString(),
    data: values.data,
    rounds,
    appJsGzipBytes: jsGzip,
    pages: results,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(out, null, 2));
  console.log(`app JavaScript: ${jsGzip} bytes gzip; results in ${values.out}`);
}

await main();
