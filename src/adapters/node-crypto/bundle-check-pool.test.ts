import { afterEach, expect, test } from "vitest";
import { randomBytes } from "node:crypto";
import { merkleRootOfHashes } from "../../core/merkle/manifest.js";
import { BundleCheckPool } from "./bundle-check-pool.js";
import { nodeCrypto } from "./crypto.js";

const pools: BundleCheckPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

test("a manifest root shared out in blocks between threads equals the one-thread root", async () => {
  for (const threads of [2, 3]) {
    const pool = new BundleCheckPool(threads);
    pools.push(pool);
    // Above the split threshold, with leaves after the last full block; and exactly whole blocks.
    for (const leaves of [8192, 20_011, 65_536]) {
      const hashes = new Uint8Array(randomBytes(32 * leaves));
      expect(await pool.trees.merkleRootOfHashes(hashes), `${threads} threads, ${leaves} leaves`).toEqual(
        merkleRootOfHashes(nodeCrypto, hashes),
      );
    }
  }
});
