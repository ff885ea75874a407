/**
 * A real Chromium for the browser benchmark and the end-to-end tests: Debian's `chromium` package
 * (/usr/bin/chromium, installed by .ci/run) driven by playwright-core. `npx playwright install`
 * cannot download browsers here, so the system binary is used, with a fresh profile directory per
 * launch. Development tooling only: nothing in the node imports it.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.RADLEDGER_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(
  executablePath: string = CHROMIUM,
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(executablePath))
    throw new Error(
      `${executablePath} not found: install Debian's chromium package (.ci/run does) or set RADLEDGER_CHROMIUM`,
    );
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "radledger-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
