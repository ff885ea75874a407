import { describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../adapters/node-crypto/crypto.js";
import { cosigner, formatCosignatureVerifierKey } from "./cosignature.js";
import { addSignatures, ed25519Signer, formatVerifierKey, signNote } from "./note.js";
import { evaluatePolicy, formatPolicy, parsePolicy, quorumSatisfied, thresholdPolicy } from "./policy.js";

const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const log = ed25519Signer(crypto, "log.example/log", seed(1));
const w = Array.from({ length: 6 }, (_, i) => cosigner(crypto, `w${i}.example`, seed(10 + i)));
const vk = (i: number): string => formatCosignatureVerifierKey(w[i]!);

// The shape of the tlog-policy spec's example (two groups of three, X: 2 of 3, Y: any), real keys.
const EXAMPLE = `# example
log ${formatVerifierKey(log)} https://log.example

witness X1 ${vk(0)}
witness X2 ${vk(1)}
\twitness X3 ${vk(2)}  https://x3.example
group X-witnesses 2 X1 X2 X3

witness Y1 ${vk(3)}
witness Y2 ${vk(4)}
witness Y3 ${vk(5)}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`;

describe("C2SP tlog-policy", () => {
  test("parses the spec example's structure and evaluates nested group quorums", () => {
    const p = parsePolicy(crypto, EXAMPLE);
    expect(p.logs).toHaveLength(1);
    expect(p.witnesses.map((x) => x.name)).toEqual(["X1", "X2", "X3", "Y1", "Y2", "Y3"]);
    expect(p.witnesses[2]!.url).toBe("https://x3.example");
    expect(p.groups.map((g) => [g.name, g.k])).toEqual([
      ["X-witnesses", 2],
      ["Y-witnesses", 1],
      ["X-and-Y", 2],
    ]);
    expect(quorumSatisfied(p, new Set(["X1", "X2", "Y3"]))).toBe(true);
    expect(quorumSatisfied(p, new Set(["X1", "Y1", "Y2", "Y3"]))).toBe(false);
    expect(quorumSatisfied(p, new Set(["X1", "X3"]))).toBe(false);
    expect(formatPolicy(parsePolicy(crypto, formatPolicy(p)))).toBe(formatPolicy(p));
  });

  test("evaluates the cosignatures on a checkpoint note", () => {
    const p = parsePolicy(crypto, EXAMPLE);
    const text = "log.example/log\n5\n" + Buffer.alloc(32).toString("base64") + "\n";
    let note = signNote(text, [log]);
    note = addSignatures(note, [w[0]!.cosign(text, 1), w[2]!.cosign(text, 1)]);
    expect(evaluatePolicy(p, note)).toMatchObject({ ok: false, cosignedBy: ["X1", "X3"] });
    note = addSignatures(note, [w[4]!.cosign(text, 2)]);
    expect(evaluatePolicy(p, note)).toMatchObject({ ok: true, cosignedBy: ["X1", "X3", "Y2"] });
  });

  test("quorum none, and the k-of-n shape a node uses", () => {
    expect(quorumSatisfied(parsePolicy(crypto, "quorum none\n"), new Set())).toBe(true);
    const witnesses = [0, 1, 2].map((i) => ({
      name: `w${i}`,
      vkey: vk(i),
      verifier: parsePolicy(crypto, `witness w ${vk(i)}\nquorum w\n`).witnesses[0]!.verifier,
    }));
    const p = thresholdPolicy([], witnesses, 2);
    expect(formatPolicy(p)).toContain("group consortium 2 w0 w1 w2\nquorum consortium\n");
    expect(quorumSatisfied(p, new Set(["w0", "w2"]))).toBe(true);
    expect(quorumSatisfied(p, new Set(["w1"]))).toBe(false);
    expect(formatPolicy(thresholdPolicy([], witnesses, 0))).toMatch(/\nquorum none\n$/);
    expect(() => thresholdPolicy([], witnesses, 4)).toThrow();
  });

  test("refuses what the spec forbids with POLICY_INVALID", () => {
    for (const bad of [
      "",
      "quorum X\n",
      `witness A ${vk(0)}\nwitness B ${vk(0)}\nquorum A\n`,
      `witness A ${vk(0)}\nwitness A ${vk(1)}\nquorum A\n`,
      `witness A ${vk(0)}\ngroup G 2 A\nquorum G\n`,
      `witness A ${vk(0)}\ngroup G 1 A A\nquorum G\n`,
      `witness A ${vk(0)}\ngroup G any B\nquorum G\n`,
      `witness A ${vk(0)}\nquorum A\nquorum A\n`,
      `witness none ${vk(0)}\nquorum none\n`,
      `witness A ${formatVerifierKey(log)}\nquorum A\n`,
      `log ${vk(0)}\nquorum none\n`,
      `witness A ${vk(0)}\u0001\nquorum A\n`,
      "frobnicate\nquorum none\n",
    ])
      expect(() => parsePolicy(crypto, bad), JSON.stringify(bad.slice(0, 30))).toThrow(
        expect.objectContaining({ code: "POLICY_INVALID" }),
      );
  });
});
