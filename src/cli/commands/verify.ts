import type { Command } from "commander";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { verifyBundlePath } from "../../app/bundle-verify.js";
import { nodeCrypto } from "../../adapters/node-crypto/crypto.js";
import { fromBase64 } from "../../core/bytes.js";
import { parseCheckpointText } from "../../core/checkpoint.js";
import { RadledgerError } from "../../core/errors.js";
import { isEvidenceText, verifyEvidence } from "../../core/evidence.js";
import { parseSignedNote } from "../../core/note.js";
import { TileClient } from "../../core/tile-client.js";
import type { AgainstCheckpoint } from "../../core/bundle/verify.js";
import { formatBundleReport } from "../../core/bundle/report.js";
import { AlreadyReported, printJson, Progress } from "../output.js";

interface VerifyOptions {
  data?: string;
  logKey: string[];
  witnessKey: string[];
  minWitnesses?: string;
  against?: string;
  consistencyProof?: string;
  logUrl?: string;
  threads?: string;
  json?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .argument(
      "[file]",
      "a bundle file or directory (docs/bundle-format.md), or an equivocation evidence file (docs/consortium.md)",
    )
    .description(
      "verify a bundle or an equivocation evidence file offline with the log's key (no network, no data directory), or with --data re-check a whole log from scratch",
    )
    .option(
      "--data <dir>",
      "data directory: re-check the whole log (signatures, enrolment, tree, checkpoints, projections)",
    )
    .option(
      "--log-key <vkey>",
      "the log's verifier key you trust (repeatable; for evidence: only accept these logs)",
      collect,
      [],
    )
    .option(
      "--witness-key <vkey>",
      "a witness's cosignature/v1 verifier key you trust (repeatable)",
      collect,
      [],
    )
    .option("--min-witnesses <k>", "require valid cosignatures by at least k of the named witnesses")
    .option(
      "--against <checkpoint>",
      "also prove the bundle consistent with this later checkpoint (a file, or an http(s) URL)",
    )
    .option(
      "--consistency-proof <file>",
      'the consistency proof for --against (JSON {"proof":[base64…]} or one base64 hash per line)',
    )
    .option(
      "--log-url <url>",
      "fetch the consistency proof for --against from this log's tiles (C2SP tlog-tiles)",
    )
    .option("--threads <n>", "threads that check signatures, this one included (default: one per core)")
    .option("--json", "print the report as JSON")
    .option("--quiet", "no progress output")
    .action(async (bundle: string | undefined, o: VerifyOptions) => {
      if (bundle === undefined) {
        if (o.data === undefined)
          throw new RadledgerError(
            "CLI_USAGE",
            "give a bundle to verify, or --data DIR to re-check a whole log",
          );
        return verifyLog(o.data, o);
      }
      if (o.data !== undefined)
        throw new RadledgerError("CLI_USAGE", "give either a bundle or --data, not both");
      if (isEvidenceFile(bundle)) {
        verifyEvidenceFile(bundle, o);
        return;
      }
      return verifyBundleCommand(bundle, o);
    });
}

/** An evidence file is recognised by its first line (docs/consortium.md §Evidence). */
function isEvidenceFile(path: string): boolean {
  let fd: number;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, "r");
  } catch {
    return false; // the bundle reader reports a missing path with its own code
  }
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return isEvidenceText(head.subarray(0, n).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}

/** Proves offline that a log signed two inconsistent checkpoints (or exits 1 saying why not). */
function verifyEvidenceFile(file: string, o: VerifyOptions): void {
  const verdict = verifyEvidence(nodeCrypto, new Uint8Array(readFileSync(file)), o.logKey);
  if (o.json)
    printJson({
      ok: true,
      origin: verdict.origin,
      kind: verdict.kind,
      first: { size: verdict.first.size, root: Buffer.from(verdict.first.root).toString("base64") },
      second: { size: verdict.second.size, root: Buffer.from(verdict.second.root).toString("base64") },
      summary: verdict.summary,
    });
  else process.stdout.write(`proven: ${verdict.summary}\n`);
}

async function verifyLog(data: string, o: VerifyOptions): Promise<void> {
  const progress = new Progress("verify", "entries", !o.quiet && !o.json);
  // Loaded here: the whole node (storage, entry types) is not needed to verify a bundle.
  const { verifyDataDir } = await import("../../app/verify.js");
  const report = await verifyDataDir(data, { onProgress: (d, t) => progress.update(d, t) });
  progress.done();
  if (o.json) printJson(report);
  if (report.ok) {
    if (!o.json)
      process.stdout.write(
        `ok: ${report.entries} entries, ${report.checkpoints} checkpoints verified; latest checkpoint covers size ${report.latestCheckpointSize}\n`,
      );
    return;
  }
  const f = report.failure!;
  const error = new RadledgerError(
    "VERIFY_FAILED",
    `${f.message} (${f.code})`,
    f.index === undefined ? {} : { index: f.index },
  );
  throw o.json ? new AlreadyReported(error) : error;
}

function nonNegative(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,3})$/.test(value))
    throw new RadledgerError("CLI_USAGE", `${name} must be a small non-negative integer`);
  return Number(value);
}

async function readText(source: string): Promise<string> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source);
    if (!res.ok) throw new RadledgerError("INPUT_INVALID", `${source} answered ${res.status}`);
    return res.text();
  }
  try {
    return readFileSync(source, "utf8");
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `cannot read ${source}`);
  }
}

function parseProofFile(text: string): Uint8Array[] {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith("{")) {
      const value = JSON.parse(trimmed) as { proof?: unknown };
      if (!Array.isArray(value.proof) || !value.proof.every((p) => typeof p === "string"))
        throw new Error("no proof array");
      return value.proof.map((p) => fromBase64(p));
    }
    return trimmed.length === 0 ? [] : trimmed.split("\n").map((l) => fromBase64(l.trim()));
  } catch {
    throw new RadledgerError(
      "INPUT_INVALID",
      '--consistency-proof: expected JSON {"proof":[base64…]} or one base64 hash per line',
    );
  }
}

async function verifyBundleCommand(bundle: string, o: VerifyOptions): Promise<void> {
  const minWitnesses = nonNegative(o.minWitnesses, "--min-witnesses");
  const threads = nonNegative(o.threads, "--threads");
  if ((o.consistencyProof !== undefined || o.logUrl !== undefined) && o.against === undefined)
    throw new RadledgerError("CLI_USAGE", "--consistency-proof and --log-url go with --against");
  let against: AgainstCheckpoint | undefined;
  if (o.against !== undefined) {
    const checkpoint = await readText(o.against);
    const proof =
      o.consistencyProof === undefined ? undefined : parseProofFile(await readText(o.consistencyProof));
    const logUrl = o.logUrl?.replace(/\/+$/, "");
    against = {
      checkpoint,
      ...(proof === undefined ? {} : { proof }),
      ...(logUrl === undefined
        ? {}
        : {
            // The later checkpoint is verified by the core before this runs; tiles are checked against it.
            fetchProof: async (from: number) => {
              const cp = parseCheckpointText(parseSignedNote(checkpoint).text);
              const client = new TileClient(
                nodeCrypto,
                async (path) => {
                  const res = await fetch(`${logUrl}/${path}`);
                  if (!res.ok)
                    throw new RadledgerError("TILE_NOT_FOUND", `${logUrl}/${path} answered ${res.status}`);
                  return new Uint8Array(await res.arrayBuffer());
                },
                cp,
              );
              return client.consistencyProof(from);
            },
          }),
    };
  }
  const progress = new Progress("verify", "entries", !o.quiet && !o.json);
  const report = await verifyBundlePath(bundle, {
    logKeys: o.logKey,
    witnessKeys: o.witnessKey,
    ...(minWitnesses === undefined ? {} : { minWitnesses }),
    ...(against ? { against } : {}),
    ...(threads === undefined ? {} : { threads }),
    onProgress: (d, t) => progress.update(d, t),
  });
  progress.done();
  if (o.json) printJson(report);
  else process.stdout.write(formatBundleReport(report));
  if (!report.ok) {
    const first = report.failures[0];
    const error = new RadledgerError(
      "VERIFY_FAILED",
      `the bundle does not verify: ${first ? `${first.code}: ${first.message}` : "see the report"}`,
      first?.at === undefined ? {} : { at: first.at },
    );
    throw new AlreadyReported(error);
  }
}
