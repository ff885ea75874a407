import { describe, expect, test } from "vitest";
import { RadledgerError } from "./errors.js";
import { formatTlogProof, parseTlogProof } from "./tlog-proof.js";

const cp =
  "example.com/log\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n\u2014 example.com/log hI2DJwAAAAA=\n";
const h = (n: number): Uint8Array => new Uint8Array(32).fill(n);

describe("C2SP tlog-proof@v1", () => {
  test("formats the spec's layout and parses it back", () => {
    const text = formatTlogProof({ index: 73894, proof: [h(1), h(2)], checkpoint: cp });
    expect(text).toBe(
      `c2sp.org/tlog-proof@v1\nindex 73894\n${Buffer.from(h(1)).toString("base64")}\n${Buffer.from(h(2)).toString("base64")}\n\n${cp}`,
    );
    expect(parseTlogProof(text)).toEqual({ index: 73894, proof: [h(1), h(2)], checkpoint: cp });
    const withExtra = formatTlogProof({ index: 0, proof: [], checkpoint: cp, extra: new Uint8Array([1, 2]) });
    expect(withExtra.split("\n").slice(0, 3)).toEqual(["c2sp.org/tlog-proof@v1", "extra AQI=", "index 0"]);
    expect(parseTlogProof(withExtra).extra).toEqual(new Uint8Array([1, 2]));
  });

  test("refuses what the spec does not allow, naming the line", () => {
    const good = formatTlogProof({ index: 5, proof: [h(1)], checkpoint: cp });
    const bad = [
      good.replace("tlog-proof@v1", "tlog-proof@v2"),
      good.replace("index 5", "index 05"),
      good.replace("index 5", "index -5"),
      good.replace("index 5", "idx 5"),
      good.replace(Buffer.from(h(1)).toString("base64"), Buffer.from(h(1)).toString("base64").slice(0, 40)),
      good.replace(Buffer.from(h(1)).toString("base64"), Buffer.from(new Uint8Array(31)).toString("base64")),
      good.replace("\n\n", "\n"),
      good.slice(0, good.indexOf("\n\n") + 2),
    ];
    for (const text of bad) {
      let err: unknown;
      try {
        parseTlogProof(text, "proofs/5.tlog-proof");
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(RadledgerError);
      expect((err as RadledgerError).code).toBe("BUNDLE_MALFORMED");
      expect((err as RadledgerError).message).toContain("proofs/5.tlog-proof");
    }
  });
});
