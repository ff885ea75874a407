import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ERROR_CODES } from "../../src/core/errors.js";
import { STATUS_BY_CATEGORY } from "../../src/api/problem.js";
import { EXIT_BY_CATEGORY } from "../../src/cli/output.js";

test("docs/errors.md lists every code with its category, HTTP status and exit code", () => {
  const doc = readFileSync(join(import.meta.dirname, "../../docs/errors.md"), "utf8");
  for (const [code, category] of Object.entries(ERROR_CODES)) {
    const cells = doc
      .split("\n")
      .map((l) => l.split("|").map((c) => c.trim()))
      .find((c) => c[1] === `\`${code}\``);
    expect(cells, code).toBeDefined();
    expect(cells!.slice(2, 5), code).toEqual([
      category,
      String(STATUS_BY_CATEGORY[category]),
      String(EXIT_BY_CATEGORY[category]),
    ]);
    expect(cells![5]!.length, `${code} has a description`).toBeGreaterThan(10);
  }
});
