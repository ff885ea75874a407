/**
 * docs/reliability.md names, for each promise, the test that keeps it ("file › test name"). This
 * keeps the page true: every file it names exists and every test name it quotes is a test in that
 * file (a name ending in "…" is the start of one; `${…}` and `%s` in a title match any text).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";

const root = join(import.meta.dirname, "../..");
const doc = readFileSync(join(root, "docs/reliability.md"), "utf8");

/** The titles of the tests declared in a file, as written (template placeholders kept). */
function titles(file: string): string[] {
  const source = readFileSync(join(root, file), "utf8");
  const found: string[] = [];
  for (const m of source.matchAll(
    /\b(?:test|it)(?:\.\w+)*(?:\([^)]*\))?\(\s*(["`])((?:\\.|(?!\1)[^\\])*)\1/gs,
  ))
    found.push(m[2]!.replace(/\s+/g, " "));
  return found;
}

/** Whether `name` is the title (or, with a trailing "…", the start of it) for some placeholder values. */
function matches(title: string, name: string): boolean {
  const prefix = name.endsWith("…");
  const wanted = prefix ? name.slice(0, -1).trimEnd() : name;
  const parts = title.split(/(\$\{[^}]*\}|%s)/);
  const pattern = (upTo: number): RegExp => {
    let source = "";
    let left = upTo;
    for (const part of parts) {
      if (left <= 0) break;
      if (part.startsWith("${") || part === "%s") source += ".*?";
      else source += part.slice(0, left).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      left -= part.length;
    }
    return new RegExp(`^${source}$`, "s");
  };
  if (!prefix) return pattern(title.length).test(wanted);
  for (let i = title.length; i > 0; i--) if (pattern(i).test(wanted)) return true;
  return false;
}

test("every test docs/reliability.md names exists, in the file it names", () => {
  const cells = [...doc.matchAll(/\| ([^|]*?(?:test|src)\/[^|]*?) \|\n/g)]
    .map((m) => m[1]!)
    .filter((cell) => / › |\(\d+ tests?\)/.test(cell));
  expect(cells.length).toBeGreaterThan(20);
  let checked = 0;
  const missing: string[] = [];
  for (const cell of cells) {
    // A cell: "file › name; › name; other-file › name" or "file (N tests)".
    let file: string | undefined;
    for (const piece of cell.split(/;\s*(?=› |test\/|src\/)/)) {
      const m = /^(?:((?:test|src)\/\S+\.test\.ts)(?: \(\d+ tests?\))?)?\s*(?:› (.+))?$/.exec(piece.trim());
      expect(m, `cannot read "${piece}" in: ${cell}`).not.toBeNull();
      file = m![1] ?? file;
      expect(file, cell).toBeDefined();
      expect(existsSync(join(root, file!)), file).toBe(true);
      const name = m![2];
      if (name === undefined) continue;
      if (!titles(file!).some((t) => matches(t, name))) missing.push(`${file} › ${name}`);
      checked++;
    }
  }
  expect(missing, "named in docs/reliability.md, but no such test").toEqual([]);
  expect(checked).toBeGreaterThan(30);
});
