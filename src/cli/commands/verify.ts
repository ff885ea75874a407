import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { againstCheckpoint, verifyBundlePath } from "../../app/bundle-verify.js";
import { checkEvidenceFile, isEvidenceFile } from "../../app/evidence-check.js";
import { toBase64 } from "../../core/bytes.js";
import { RadledgerError } from "../../core/errors.js";
import { formatBundleReport } from "../../core/bundle/report.js";
import { parseTrustAnchors } from "../../core/bundle/trust.js";
import { bundleVerifier } from "../../wiring/bundle-verify.js";
import { AlreadyReported, printJson, Progress } from "../output.js";

interface VerifyOptions {
  data?: string;
  logKey: string[];
  policy?: string;
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
      "verify a bundle or an equivocation evidence file offline with the log's key (no network, no data directory), or with --data re-check a whole log from scratch. " +
        "A bundle is VERIFIED (exit 0) only against a log key you trust (--log-key, or --policy); checked only against the key it carries it is UNTRUSTED (exit 8); FAILED exits 1",
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
      "--policy <file>",
      "a consortium policy (C2SP tlog-policy) to trust: its log keys, its witnesses and its quorum",
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
      "also prove the bundle consistent with this later checkpoint (a file, or an http(s) URL); with --data, a checkpoint file the stored log must extend (at least its size, same root or a consistency proof)",
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
        return auditLogCommand(o.data, o);
      }
      if (o.data !== undefined)
        throw new RadledgerError("CLI_USAGE", "give either a bundle or --data, not both");
      if (isEvidenceFile(bundle)) {
        checkEvidenceCommand(bundle, o);
        return;
      }
      return verifyBundleCommand(bundle, o);
    });
}

/** Proves offline that a log signed two inconsistent checkpoints (or exits 1 saying why not). */
function checkEvidenceCommand(file: string, o: VerifyOptions): void {
  const verdict = checkEvidenceFile(bundleVerifier.crypto, file, o.logKey);
  if (o.json)
    printJson({
      ok: true,
      origin: verdict.origin,
      kind: verdict.kind,
      first: { size: verdict.first.size, root: toBase64(verdict.first.root) },
      second: { size: verdict.second.size, root: toBase64(verdict.second.root) },
      summary: verdict.summary,
    });
  else process.stdout.write(`proven: ${verdict.summary}\n`);
}

/** `--data DIR`: the whole-log audit (src/domain/ledger/audit.ts). */
async function auditLogCommand(data: string, o: VerifyOptions): Promise<void> {
  if (o.consistencyProof !== undefined || o.logUrl !== undefined)
    throw new RadledgerError(
      "CLI_USAGE",
      "--consistency-proof and --log-url are for a bundle: with --data the proof comes from the stored log",
    );
  const against = o.against === undefined ? undefined : readAgainst(o.against);
  const progress = new Progress("verify", "entries", !o.quiet && !o.json);
  // Loaded here: the whole node (storage, entry types) is not needed to verify a bundle.
  const { auditDataDir } = await import("../../wiring/audit.js");
  const report = await auditDataDir(data, {
    onProgress: (d, t) => progress.update(d, t),
    ...(o.logKey.length > 0 ? { trustedLogKeys: o.logKey } : {}),
    ...(against === undefined ? {} : { against }),
  });
  progress.done();
  if (o.json) printJson(report);
  if (report.ok) {
    if (!o.json)
      process.stdout.write(
        `ok: ${report.entries} entries, ${report.checkpoints} checkpoints verified; latest checkpoint covers size ${report.latestCheckpointSize}` +
          (against === undefined ? "" : "; consistent with the --against checkpoint") +
          "\n",
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

/** The --against checkpoint note of `verify --data` (a file: the store's own proof is used). */
function readAgainst(file: string): string {
  if (/^https?:\/\//.test(file))
    throw new RadledgerError("CLI_USAGE", "with --data, --against takes a checkpoint file, not a URL");
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `cannot read the --against file ${file}`, {
      at: "--against",
    });
  }
}

/** The --policy file's text. */
function readPolicy(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `cannot read the --policy file ${file}`, { at: "--policy" });
  }
}

async function verifyBundleCommand(bundle: string, o: VerifyOptions): Promise<void> {
  const minWitnesses = nonNegative(o.minWitnesses, "--min-witnesses");
  const threads = nonNegative(o.threads, "--threads");
  const policy = readPolicy(o.policy);
  // What the user trusts is the user's input: a malformed key or policy is refused here (exit 2),
  // naming the option, before any bundle byte is read — not reported as a failure of the bundle.
  parseTrustAnchors(bundleVerifier.crypto, {
    logKeys: o.logKey,
    witnessKeys: o.witnessKey,
    ...(minWitnesses === undefined ? {} : { minWitnesses }),
    ...(policy === undefined ? {} : { policy }),
  });
  if ((o.consistencyProof !== undefined || o.logUrl !== undefined) && o.against === undefined)
    throw new RadledgerError("CLI_USAGE", "--consistency-proof and --log-url go with --against");
  const against =
    o.against === undefined
      ? undefined
      : await againstCheckpoint(bundleVerifier, {
          checkpoint: o.against,
          ...(o.consistencyProof === undefined ? {} : { proofFile: o.consistencyProof }),
          ...(o.logUrl === undefined ? {} : { logUrl: o.logUrl }),
        });
  const progress = new Progress("verify", "entries", !o.quiet && !o.json);
  const report = await verifyBundlePath(bundleVerifier, bundle, {
    logKeys: o.logKey,
    witnessKeys: o.witnessKey,
    ...(minWitnesses === undefined ? {} : { minWitnesses }),
    ...(policy === undefined ? {} : { policy }),
    ...(against ? { against } : {}),
    ...(threads === undefined ? {} : { threads }),
    onProgress: (d, t) => progress.update(d, t),
  });
  progress.done();
  if (o.json) printJson(report);
  else process.stdout.write(formatBundleReport(report));
  if (report.trust === "untrusted")
    throw new AlreadyReported(
      new RadledgerError(
        "BUNDLE_UNTRUSTED",
        "the bundle is consistent, but only with the log key it carries itself, which anyone can make: give the log's key with --log-key, or a consortium policy with --policy",
        { at: "bundle.json:logKey" },
      ),
    );
  if (report.trust !== "verified") {
    const first = report.failures[0];
    const error = new RadledgerError(
      "VERIFY_FAILED",
      `the bundle does not verify: ${first ? `${first.code}: ${first.message}` : "see the report"}`,
      first?.at === undefined ? {} : { at: first.at },
    );
    throw new AlreadyReported(error);
  }
}
