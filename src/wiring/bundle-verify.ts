/**
 * Wiring of bundle verification (src/app/bundle-verify.ts): node:crypto, the worker-thread entry
 * checkers, and fetch for `--against` URLs. Kept apart from the node's wiring so that `radledger
 * verify BUNDLE` loads neither storage nor the domain.
 */
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { BundleCheckPool } from "../adapters/node-crypto/bundle-check-pool.js";
import { fetchHttpClient } from "../adapters/http/fetch-client.js";
import type { BundleVerifierPorts } from "../app/bundle-verify.js";

export const bundleVerifier: BundleVerifierPorts = {
  crypto: nodeCrypto,
  startCheckers: (threads) => new BundleCheckPool(threads),
  http: fetchHttpClient,
};
