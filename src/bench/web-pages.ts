/**
 * The web app's page benchmark (issue 20, "Speed"; docs/performance.md "Web app"): serves a data
 * directory made by `radledger bench seed` (1,000,000 entries, a patient with 10,000 accesses),
 * signs in through the page as each persona in DIR/bench-users.json, and times each page's main view
 * in a real Chromium — from navigation until the page shows its data (its heading is up and nothing
 * says "Loading…") — over several rounds; reports p50/p95 per page and the app's JavaScript size
 * (gzip). Usage: node dist/bench/web-pages.js --data DIR [--rounds N] [--out FILE]
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

const PAGES: Readonly<Record<string, readonly string[]>> = {
  patient: ["/patient", "/patient/sharing"],
  radiologist: ["/reading"],
  auditor: ["/audit/break-glass", "/audit/ai-recall"],
  admin: ["/admin", "/admin/actors", "/admin/tokens"],
  "": ["/explorer", "/verify"],
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
    },
  });
  if (values.data === undefined) throw new Error("--data DIR (made by radledger bench seed) is required");
  const rounds = Number(values.rounds);
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
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
      const page = await browser.context.newPage();
      const user = users.find((u) => u.persona === persona);
      if (persona !== "" && !user) continue;
      if (user) {
        await page.goto(`${url}/sign-in`);
        await page.getByLabel("Account (actor id)").fill(user.actor);
        await page.getByLabel("Password", { exact: true }).fill(user.password);
        await page.getByLabel("Password", { exact: true }).press("Enter");
        await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"), { timeout: 60_000 });
      }
      for (const path of paths) {
        const times: number[] = [];
        for (let i = 0; i < rounds + 1; i++) {
          const t0 = performance.now();
          await page.goto(`${url}${path}`, { waitUntil: "commit" });
          await page.waitForFunction(
            () => {
              const main = document.querySelector("main");
              return main?.querySelector("h1") != null && !main.innerText.includes("Loading…");
            },
            undefined,
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
