/**
 * Page corruption of the log database (docs/security.md §High-water mark): damage is detected and
 * named — STORE_CORRUPT naming ledger.sqlite when opening reads the damaged page, a failed
 * `verify --data` otherwise — and never becomes a smaller or different log that verifies.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { RadledgerError } from "../../src/core/errors.js";
import { openNode } from "../../src/wiring/node.js";
import { auditDataDir } from "../../src/wiring/audit.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { runCli } from "../helpers/cli.js";

let t: TestNode;
let size: number;
let original: Buffer;
let pageSize: number;

beforeAll(async () => {
  t = await makeNode();
  for (let i = 0; i < 40; i++) await t.enrol(`staff-${i}`, ["radiologist"]);
  size = t.node.ledger.size;
  // Closing checkpoints the WAL into ledger.sqlite: every committed page is in the main file.
  await t.node.close();
  original = readFileSync(join(t.dir, "ledger.sqlite"));
  pageSize = original.readUInt16BE(16); // the database header's page size (sqlite.org/fileformat2.html §1.3)
});
afterAll(async () => {
  await t.reopen();
  await t.close();
});

/** A copy of the data directory whose ledger.sqlite has page `page` (1-based) changed by `damage`. */
function damagedCopy(name: string, page: number, damage: (bytes: Buffer, offset: number) => void): string {
  const copy = `${t.dir}-${name}-${page}`;
  cpSync(t.dir, copy, { recursive: true });
  const bytes = Buffer.from(original);
  damage(bytes, (page - 1) * pageSize);
  writeFileSync(join(copy, "ledger.sqlite"), bytes);
  return copy;
}

const zeroPage = (bytes: Buffer, offset: number): void => void bytes.fill(0, offset, offset + pageSize);

test("a damaged page that opening reads: STORE_CORRUPT naming ledger.sqlite from the node, serve and verify", async () => {
  // Page 2 is the first page after the schema: the entries' table root, read when the node opens.
  const copy = damagedCopy("page", 2, zeroPage);
  try {
    let refused: unknown;
    try {
      const opened = openNode(copy, { verifyThreads: 0 });
      await opened.close();
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(RadledgerError);
    expect((refused as RadledgerError).code).toBe("STORE_CORRUPT");
    expect((refused as RadledgerError).message).toContain(join(copy, "ledger.sqlite"));

    const serve = await runCli(["serve", "--data", copy, "--port", "0"]);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain("STORE_CORRUPT");
    const verify = await runCli(["verify", "--data", copy, "--quiet"]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain("STORE_CORRUPT");
    expect(verify.stderr).toContain("ledger.sqlite");
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test("any one page zeroed: the node refuses with a storage code or verify fails naming it; never a smaller log that verifies", async () => {
  const pages = original.length / pageSize;
  const outcomes: string[] = [];
  for (let page = 2; page <= pages; page++) {
    const copy = damagedCopy("zero", page, zeroPage);
    try {
      try {
        const opened = openNode(copy, { verifyThreads: 0, onNotice: () => undefined });
        await opened.close();
      } catch (e) {
        // Refusing is fine, crashing is not: a coded storage error, never INTERNAL or a raw SqliteError.
        expect(e, `page ${page}`).toBeInstanceOf(RadledgerError);
        expect(["STORE_CORRUPT", "STORE_ROLLED_BACK", "STORE_FORKED"], `page ${page}`).toContain(
          (e as RadledgerError).code,
        );
      }
      let report;
      try {
        report = await auditDataDir(copy, { threads: 0 });
      } catch (e) {
        expect((e as RadledgerError).code, `page ${page}`).toBe("STORE_CORRUPT");
        outcomes.push("refused");
        continue;
      }
      if (report.ok) {
        // A page the log does not use (free space): then the whole log is there.
        expect(report.entries, `page ${page}`).toBe(size);
        outcomes.push("intact");
      } else {
        expect(report.failure!.code, `page ${page}: ${report.failure!.message}`).not.toBe("INTERNAL");
        outcomes.push(report.failure!.code);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  // The damage was seen on most pages (the rest hold no data of the log).
  expect(outcomes.filter((o) => o !== "intact").length).toBeGreaterThan(pages / 2);
});
