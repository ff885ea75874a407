/**
 * The layer boundaries of eslint.boundaries.js refuse wrong-way imports: for every layer, an import
 * of each folder it must not reach is an error, and the imports it may make are not. The rules are
 * the ones `npm run lint` (and CI) applies to src/.
 */
import { Linter } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, test } from "vitest";
import { layerBoundaries } from "../../eslint.boundaries.js";

const linter = new Linter({ configType: "flat" });
const config = [{ files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } }, ...layerBoundaries];

/** The rule ids that refuse `source` in a file of `layer`, imported statically and dynamically. */
function refusals(layer: string, target: string): { static: string[]; dynamic: string[] } {
  const filename = `src/${layer}/sub/file.ts`;
  const run = (code: string): string[] =>
    linter.verify(code, config, { filename }).map((m) => m.ruleId ?? m.message);
  return {
    static: run(`import { x } from "../../${target}/thing.js";\nexport { x };\n`),
    dynamic: run(`export const m = await import("../../${target}/thing.js");\n`),
  };
}

/** What each layer may import (docs/architecture.md, "Layers"). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  ports: ["core"],
  domain: ["core", "ports"],
  adapters: ["core", "ports", "domain"],
  app: ["core", "ports", "domain"],
  wiring: ["core", "ports", "domain", "adapters", "app"],
  api: ["core", "ports", "domain", "app"],
  cli: ["core", "ports", "domain", "app", "wiring", "api", "bench"],
  bench: ["core", "ports", "domain", "adapters", "app", "wiring", "api"],
  web: ["core"],
};
const LAYERS = Object.keys(ALLOWED);

describe("layer boundaries", () => {
  for (const layer of LAYERS) {
    test(`${layer} imports only ${ALLOWED[layer]!.join(", ") || "itself"}`, () => {
      for (const target of LAYERS) {
        if (target === layer) continue;
        const got = refusals(layer, target);
        const expected = ALLOWED[layer]!.includes(target) ? [] : ["no-restricted-imports"];
        expect(got.static, `${layer} → ${target}`).toEqual(expected);
        expect(got.dynamic, `${layer} → import(${target})`).toEqual(
          expected.length === 0 ? [] : ["no-restricted-syntax"],
        );
      }
    });
  }

  test("the pure layers reach no Node API; tests are exempt from the boundaries", () => {
    for (const layer of ["core", "ports", "domain"])
      expect(
        linter.verify('import { readFileSync } from "node:fs";\nexport { readFileSync };\n', config, {
          filename: `src/${layer}/file.ts`,
        }),
      ).toHaveLength(1);
    expect(
      linter.verify('import { x } from "../adapters/sqlite/log-store.js";\nexport { x };\n', config, {
        filename: "src/app/file.test.ts",
      }),
    ).toHaveLength(0);
  });
});
