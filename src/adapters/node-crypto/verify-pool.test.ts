import { afterAll, describe, expect, it } from "vitest";
import { actorKeyId } from "../../core/entry.js";
import { utf8 } from "../../core/bytes.js";
import { createRegistry } from "../../domain/registry.js";
import { signAs } from "../../app/keys.js";
import type { VerifyRequest } from "../../ports/verifier.js";
import { nodeCrypto } from "./crypto.js";
import { InlineVerifier } from "./inline-verifier.js";
import { WorkerVerifier } from "./verify-pool.js";

const seed = nodeCrypto.sha256(utf8("verify-pool test key"));
const publicKey = nodeCrypto.ed25519PublicKey(seed);
const key = { actor: "cur-1", seed, publicKey, keyId: actorKeyId(nodeCrypto, publicKey) };
/** Claims the same key id, signs with another seed: a well-formed entry whose signature fails. */
const impostor = { ...key, seed: nodeCrypto.sha256(utf8("another key")) };

/** Valid entries, bad signatures, undecodable bytes and entries without a known key, interleaved. */
function requests(n: number): VerifyRequest[] {
  return Array.from({ length: n }, (_, i) => {
    const body = { name: `set ${i}`, purpose: "training" };
    const bytes = signAs(nodeCrypto, key, "pool.test/log", "dataset.created", body);
    switch (i % 5) {
      case 1:
        return {
          bytes: signAs(nodeCrypto, impostor, "pool.test/log", "dataset.created", body),
          publicKey,
        };
      case 2:
        return { bytes: utf8(`{"v":1,"type":"dataset.created",${i}`), publicKey };
      case 3:
        return { bytes }; // key not yet enrolled: checked at admission instead
      default:
        return { bytes, publicKey };
    }
  });
}

describe("WorkerVerifier", () => {
  const pool = new WorkerVerifier(2);
  const inline = new InlineVerifier(nodeCrypto, createRegistry());
  afterAll(() => pool.close());

  // Small requests are shared out between the workers (one API wave); the answers must come back
  // whole and in order, exactly as one thread gives them.
  it.each([1, 3, 4, 8, 9, 31, 257])(
    "answers %i requests in order, as the inline verifier does",
    async (n) => {
      const list = requests(n);
      const [fromPool, fromInline] = await Promise.all([pool.verify(list), inline.verify(list)]);
      expect(fromPool).toHaveLength(n);
      expect(fromPool).toEqual(fromInline);
      const codes = fromPool.map((o) => (o.ok ? (o.signatureChecked ? "checked" : "unchecked") : o.code));
      expect(codes.slice(0, 5)).toEqual(
        ["checked", "ENTRY_BAD_SIGNATURE", "JSON_INVALID", "unchecked", "checked"].slice(0, n),
      );
    },
  );
});
