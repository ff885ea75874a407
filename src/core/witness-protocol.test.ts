import { describe, expect, test } from "vitest";
import { toBase64 } from "./bytes.js";
import {
  formatAddCheckpointRequest,
  formatCosignatureResponse,
  formatSizeResponse,
  parseAddCheckpointRequest,
  parseCosignatureResponse,
  parseSizeResponse,
} from "./witness-protocol.js";

// The request and response bodies of the tlog-witness spec's examples (c2sp.org/tlog-witness).
const CHECKPOINT =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
  "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
  "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";
const REQUEST =
  "old 20852014\n" +
  "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" +
  "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n" +
  "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n" +
  "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n" +
  "\n" +
  CHECKPOINT;
const RESPONSE =
  "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n" +
  "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n" +
  "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";

describe("tlog-witness add-checkpoint formats", () => {
  test("parses the spec's example request and formats it back byte for byte", () => {
    const req = parseAddCheckpointRequest(REQUEST);
    expect(req.oldSize).toBe(20852014);
    expect(req.proof.map(toBase64)).toEqual(REQUEST.split("\n").slice(1, 5));
    expect(req.checkpoint).toBe(CHECKPOINT);
    expect(formatAddCheckpointRequest(req)).toBe(REQUEST);
  });

  test("parses the spec's example response and formats it back", () => {
    const lines = parseCosignatureResponse(RESPONSE);
    expect(lines.map((l) => l.name)).toEqual([
      "witness.example/w1",
      "witness.example/w1",
      "witness.example/w2",
    ]);
    expect(formatCosignatureResponse(lines)).toBe(RESPONSE);
  });

  test("sizes: decimal without leading zeroes, newline-terminated", () => {
    expect(formatSizeResponse(0)).toBe("0\n");
    expect(parseSizeResponse("20852163\n")).toBe(20852163);
    for (const bad of ["01\n", "1", "-1\n", "1 \n", "\n"]) expect(() => parseSizeResponse(bad)).toThrow();
  });

  test("refuses malformed requests with WITNESS_REQUEST_MALFORMED", () => {
    const h = toBase64(new Uint8Array(32));
    for (const body of [
      "",
      "old 0",
      "old 00\n\n" + CHECKPOINT,
      "old 1e3\n\n" + CHECKPOINT,
      "old  1\n\n" + CHECKPOINT,
      "OLD 1\n\n" + CHECKPOINT,
      `old 1\n${h}\n`,
      `old 1\n${h.slice(1)}\n\n${CHECKPOINT}`,
      `old 1\n${`${h}\n`.repeat(64)}\n${CHECKPOINT}`,
      "old 1\n\n",
    ])
      expect(() => parseAddCheckpointRequest(body), JSON.stringify(body.slice(0, 20))).toThrow(
        expect.objectContaining({ code: "WITNESS_REQUEST_MALFORMED" }),
      );
    expect(parseAddCheckpointRequest(`old 1\n${`${h}\n`.repeat(63)}\n${CHECKPOINT}`).proof).toHaveLength(63);
    expect(() => parseCosignatureResponse("")).toThrow();
    expect(() => parseCosignatureResponse("not a line\n")).toThrow();
  });
});
