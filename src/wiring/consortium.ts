/**
 * Wiring of the consortium side (src/app/consortium): SQLite stores for the witness, the cosigned
 * checkpoints and anchors and the mirrored logs, fetch for peers and witnesses, the inline verifier
 * mirrors replay with, and the EVM anchoring contract — loaded only when anchoring is configured, so
 * that serving a log does not load the EVM client.
 */
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { InlineVerifier } from "../adapters/node-crypto/inline-verifier.js";
import { fetchHttpClient } from "../adapters/http/fetch-client.js";
import { SqliteConsortiumStore } from "../adapters/sqlite/consortium-store.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { SqliteWitnessStore } from "../adapters/sqlite/witness-store.js";
import type { ConsortiumPorts } from "../app/consortium/service.js";
import type { ConsortiumStorage } from "../ports/consortium.js";

export const consortiumStorage: ConsortiumStorage = {
  openWitnessStore: (path, options) => new SqliteWitnessStore(path, options),
  openCosignatureStore: (path, options) => new SqliteConsortiumStore(path, options),
  openLog: (path, options) => new SqliteLogStore(path, options),
};

export const consortiumPorts: ConsortiumPorts = {
  crypto: nodeCrypto,
  storage: consortiumStorage,
  http: fetchHttpClient,
  // Mirrors replay in the background, a batch at a time: the calling thread is enough.
  mirrorVerifier: (registry) => new InlineVerifier(nodeCrypto, registry),
  async connectChain(rpcUrl, privateKey, contract) {
    const { connectConsortium } = await import("../adapters/evm/consortium.js");
    return connectConsortium({ rpcUrl, privateKey }, contract);
  },
};
