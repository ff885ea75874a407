/**
 * Runs once before the suite: builds dist/ so that end-to-end tests exercise the same JavaScript a
 * user runs (`radledger` is dist/cli/main.js), and the browser verifier page.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export default function setup(): void {
  const root = join(import.meta.dirname, "..");
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
    { stdio: "inherit" },
  );
  // The web app (dist/web/app, served at /) and the standalone verifier (dist/web/verifier.html).
  execFileSync(process.execPath, [join(root, "scripts/build-web.mjs")], { stdio: "inherit" });
}
