/**
 * The human-readable verification report, the same text in the CLI and the browser verifier: the
 * verdict (VERIFIED, UNTRUSTED or FAILED: trust.ts), what the bundle is about, by whom each statement
 * was signed, as of which checkpoint (and which witnesses), what payloads were checked — or every
 * failure with its place. Only a verification that passed says its entries were verified.
 */
import { TRUST_VERDICT } from "./trust.js";
import type { BundleReport } from "./types.js";

const KEY_SOURCE = {
  "log-key": "given by you",
  policy: "named by your policy",
  bundle: "taken from the bundle, NOT independently trusted",
} as const;

const plural = (n: number, word: string): string =>
  `${n} ${n === 1 ? word : word.endsWith("y") ? `${word.slice(0, -1)}ies` : `${word}s`}`;

export function formatBundleReport(r: BundleReport): string {
  const lines: string[] = [];
  const what = r.kind
    ? `${r.kind} bundle for ${r.subject?.id ?? "?"}${r.subject?.version === undefined ? "" : ` version ${r.subject.version}`}`
    : "bundle";
  lines.push(`${TRUST_VERDICT[r.trust]}: ${what}`);
  if (r.trust === "untrusted")
    lines.push(
      "the bundle is consistent, but only with the log key it carries itself: anyone can make such a bundle. Check it against the log's key (--log-key) or a consortium policy (--policy)",
    );
  if (r.log) lines.push(`log: ${r.log.origin} (key ${KEY_SOURCE[r.log.keySource]})`);
  if (r.checkpoint) {
    lines.push(`checkpoint: tree size ${r.checkpoint.size}, root ${r.checkpoint.root}`);
    for (const c of r.checkpoint.cosignatures)
      lines.push(
        `  cosigned by witness ${c.witness} at ${new Date(c.timestamp * 1000).toISOString()}: ${c.valid ? "valid" : "INVALID"}`,
      );
    if (r.checkpoint.unverifiedSignatures.length > 0)
      lines.push(`  not checked (keys not given): ${r.checkpoint.unverifiedSignatures.join(", ")}`);
  }
  if (r.against)
    lines.push(
      `consistent with the later checkpoint of size ${r.against.size} (root ${r.against.root}): the records are still in the log's history`,
    );
  const checks =
    "signature, enrolment of the signing key at signing time, inclusion in the checkpoint's tree (RFC 9162, one multi-leaf proof)";
  if (r.trust === "verified") lines.push(`${plural(r.entries, "entry")} verified: ${checks}`);
  else if (r.trust === "untrusted")
    lines.push(`${plural(r.entries, "entry")} consistent with the bundle's own log key: ${checks}`);
  else lines.push(`${plural(r.entries, "entry")} read; the verification failed (failures below)`);
  const types = Object.entries(r.byType).sort(([a], [b]) => (a < b ? -1 : 1));
  if (types.length > 0) lines.push(`  ${types.map(([t, n]) => `${t} ×${n}`).join(", ")}`);
  const p = r.payloads;
  if (p.disclosures + p.files + p.instances > 0 && r.trust === "failed")
    lines.push(
      `payloads read: ${plural(p.disclosures, "disclosure")}, ${plural(p.files, "file")}, ${plural(p.instances, "DICOM instance")} in ${plural(p.imageSets, "image set")}; ${p.bytes} bytes`,
    );
  else if (p.disclosures + p.files + p.instances > 0)
    lines.push(
      `payloads: ${plural(p.disclosures, "disclosure")} (content and salt match the commitment), ${plural(p.files, "file")}, ` +
        `${plural(p.instances, "DICOM instance")} in ${plural(p.imageSets, "image set")} (hashes and manifest roots match the entries); ${p.bytes} bytes`,
    );
  if (r.externalRefs > 0)
    lines.push(
      `${plural(r.externalRefs, "reference")} to entries outside the bundle (not needed for its checks)`,
    );
  // What the kind's checks established holds only of a bundle that passed them all.
  if (r.findings.length > 0 && r.trust !== "failed") {
    lines.push("findings:");
    for (const f of r.findings) lines.push(`  ${f}`);
  }
  const signers = r.signers.filter((s) => s.signed > 0);
  if (signers.length > 0) {
    lines.push("signed by:");
    for (const s of signers) {
      const who = s.displayName ? `${s.displayName} (${s.actor})` : s.actor;
      const roles = s.roles && s.roles.length > 0 ? ` [${s.roles.join(", ")}]` : "";
      const status =
        s.status === "active"
          ? ""
          : `; ${s.status} at index ${s.endedAt ?? "?"}${s.reason ? ` (${s.reason})` : ""}, after what it signed here`;
      lines.push(
        `  ${who}${roles}: ${plural(s.signed, "entry")}, key ${s.key} enrolled at index ${s.enrolledAt} by ${s.enrolledBy}${status}`,
      );
    }
  }
  for (const w of r.warnings) lines.push(`WARNING: ${w}`);
  if (r.failures.length > 0) {
    lines.push(`${plural(r.failures.length + r.moreFailures, "failure")}:`);
    for (const f of r.failures) lines.push(`  ${f.code}: ${f.message}`);
    if (r.moreFailures > 0) lines.push(`  … and ${r.moreFailures} more`);
  }
  return lines.join("\n") + "\n";
}
