import { expect, test } from "vitest";
import { benchBundle } from "./bundle.js";

test("the bundle benchmark builds, exports and verifies a small dataset bundle", async () => {
  const r = await benchBundle({ entries: 60, threads: 1, browser: false });
  expect(r.entries).toBe(60);
  expect(r.cliEntriesPerSecond).toBeGreaterThan(0);
  expect(r.verifyCeilingPerSecond).toBeGreaterThan(0);
  expect(r.browserSkipped).toBe("disabled");
}, 60_000);
