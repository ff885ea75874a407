import { describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../adapters/node-crypto/crypto.js";
import { cosigner, formatCosignatureVerifierKey } from "../cosignature.js";
import { RadledgerError } from "../errors.js";
import { ed25519Signer, formatVerifierKey } from "../note.js";
import { parsePolicy } from "../policy.js";
import { parseTrustAnchors, policyQuorumMet, trustState, TRUST_VERDICT } from "./trust.js";

const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const logKey = formatVerifierKey(ed25519Signer(crypto, "log.example/log", seed(1)));
const w1 = cosigner(crypto, "w1.example", seed(2));
const w2 = cosigner(crypto, "w2.example", seed(3));
const witness = formatCosignatureVerifierKey(w1);

const thrown = (f: () => unknown): RadledgerError => {
  try {
    f();
  } catch (e) {
    if (e instanceof RadledgerError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("bundle trust states", () => {
  test("VERIFIED needs a trusted key; the bundle's own key gives UNTRUSTED; any failure FAILED", () => {
    expect(trustState(true, "log-key")).toBe("verified");
    expect(trustState(true, "policy")).toBe("verified");
    expect(trustState(true, "bundle")).toBe("untrusted");
    expect(trustState(true, undefined)).toBe("untrusted");
    expect(trustState(false, "log-key")).toBe("failed");
    expect(trustState(false, "bundle")).toBe("failed");
    expect(TRUST_VERDICT).toEqual({ verified: "VERIFIED", untrusted: "UNTRUSTED", failed: "FAILED" });
  });

  test("trust inputs: keys and a policy parse; a malformed one names its option", () => {
    const anchors = parseTrustAnchors(crypto, {
      logKeys: [logKey],
      witnessKeys: [witness],
      policy: `log ${logKey}\nwitness one ${witness}\nquorum one\n`,
    });
    expect(anchors.logKeys.map((k) => k.source)).toEqual(["log-key", "policy"]);
    // The policy's witness is the --witness-key one: named once.
    expect(anchors.witnesses).toHaveLength(1);

    const bad = thrown(() => parseTrustAnchors(crypto, { logKeys: ["nonsense"] }));
    expect([bad.code, bad.details.at]).toEqual(["KEY_STRING_MALFORMED", "--log-key"]);
    expect(bad.message).toMatch(/^the --log-key given is not a log verifier key/);
    const wrongType = thrown(() => parseTrustAnchors(crypto, { logKeys: [witness] }));
    expect([wrongType.code, wrongType.details.at]).toEqual(["KEY_STRING_MALFORMED", "--log-key"]);
    const badWitness = thrown(() => parseTrustAnchors(crypto, { witnessKeys: [logKey] }));
    expect([badWitness.code, badWitness.details.at]).toEqual(["KEY_STRING_MALFORMED", "--witness-key"]);
    const badPolicy = thrown(() => parseTrustAnchors(crypto, { policy: "quorum nobody\n" }));
    expect([badPolicy.code, badPolicy.details.at]).toEqual(["POLICY_INVALID", "--policy"]);
    const badMin = thrown(() => parseTrustAnchors(crypto, { minWitnesses: -1 }));
    expect(badMin.code).toBe("INPUT_INVALID");
  });

  test("a policy's quorum is met by its witnesses' keys, whatever the local names", () => {
    const policy = parsePolicy(
      crypto,
      `log ${logKey}\nwitness a ${witness}\nwitness b ${formatCosignatureVerifierKey(w2)}\ngroup both all a b\nquorum both\n`,
    );
    expect(policyQuorumMet(policy, [w1])).toBe(false);
    expect(policyQuorumMet(policy, [w1, w2])).toBe(true);
    expect(policyQuorumMet(parsePolicy(crypto, `log ${logKey}\nquorum none\n`), [])).toBe(true);
  });
});
