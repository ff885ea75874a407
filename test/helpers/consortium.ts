/**
 * Consortium test helpers: nodes with their own origins, and an in-memory "log" whose checkpoints
 * are signed by a key the test holds (to drive a witness with honest, forked and malformed input).
 */
import { join } from "node:path";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { formatSignedCheckpoint, signCheckpoint } from "../../src/core/checkpoint.js";
import { ed25519Signer, formatVerifierKey } from "../../src/core/note.js";
import { formatAddCheckpointRequest } from "../../src/core/witness-protocol.js";
import { initDataDir } from "../../src/app/init.js";
import { openNode, type NodeOptions, type RadledgerNode, nodeFactory } from "../../src/wiring/node.js";
import { RefTree } from "./reference-merkle.js";
import { tempDir } from "./node.js";

/** A fresh data directory initialised for `origin` (removed by remove()). */
export async function initNode(origin: string, name = origin): Promise<{ dir: string; remove: () => void }> {
  const tmp = tempDir("radledger-consortium-");
  const dir = join(tmp.path, "data");
  await initDataDir(dir, { origin, institutionName: name }, nodeFactory);
  return { dir, remove: () => tmp.remove() };
}

export function open(dir: string, options: NodeOptions = {}): RadledgerNode {
  return openNode(dir, { verifyThreads: 0, ...options });
}

/** A log that exists only as signed checkpoints over a reference tree of synthetic entries. */
export class FakeLog {
  readonly signer;
  readonly vkey: string;
  readonly tree: RefTree;

  constructor(
    readonly origin: string,
    readonly salt = "honest",
    readonly seed: Uint8Array = crypto.randomBytes(32),
  ) {
    this.signer = ed25519Signer(crypto, origin, seed);
    this.vkey = formatVerifierKey(this.signer);
    this.tree = RefTree.fromEntries(
      Array.from({ length: 600 }, (_, i) => new TextEncoder().encode(`${salt}/${i}`)),
    );
  }

  /** The same key over another history (a fork). */
  fork(salt: string): FakeLog {
    return new FakeLog(this.origin, salt, this.seed);
  }

  checkpoint(size: number): string {
    return formatSignedCheckpoint(
      signCheckpoint({ origin: this.origin, size, root: this.tree.root(size) }, this.signer),
    );
  }

  /** An add-checkpoint body from `old` to `size` with this log's proof. */
  request(old: number, size: number): string {
    const proof = old > 0 && old < size ? this.tree.consistencyProof(old, size) : [];
    return formatAddCheckpointRequest({ oldSize: old, proof, checkpoint: this.checkpoint(size) });
  }
}
