/**
 * The kind's own checks (docs/bundle-format.md §3, §4 step 6): the subject's entry is in the bundle;
 * a report's sign-off lists only contributions the bundle carries; a sealed dataset version's items
 * and annotations are as many as the seal states, hash to its manifest root, and their signers are
 * its contributor list (dataset-check.ts, as the entries are read); an access history is about its
 * patient. Also the findings and the record
 * summary the report shows per kind. The manifest's kind and subject are the exporter's claim.
 */
import type { JsonObject } from "../canonical-json.js";
import type { Failures } from "./failures.js";
import { MANIFEST_PATH, type BundleManifest } from "./format.js";
import { refOf, str, type Included } from "./included.js";
import type { DatasetCheck } from "./dataset-check.js";
import type { TreeHasher } from "./entry-check.js";
import type { ActorInfo } from "./signers.js";

/** The bundle's entries by leaf hash (hex): all of them, and those the verifier kept (verify.ts). */
export interface BundleEntries {
  has(leaf: string): boolean;
  kept(leaf: string): Included | undefined;
}

export interface KindResult {
  readonly findings: string[];
  readonly record: JsonObject;
}

const short = (id: string): string => id.slice(0, 12);

export async function checkKind(
  m: BundleManifest,
  included: readonly Included[],
  byLeaf: BundleEntries,
  actors: Map<string, ActorInfo>,
  disclosed: Set<string>,
  failures: Failures,
  trees: TreeHasher,
  dataset?: DatasetCheck,
): Promise<KindResult> {
  const name = (actor: string): string => {
    const d = actors.get(actor)?.displayName;
    return d ? `${d} (${actor})` : actor;
  };
  const subjectOf = (type: string): Included | undefined => {
    const s = byLeaf.kept(m.subject.id);
    if (!s || s.entry.type !== type) {
      failures.add(
        "BUNDLE_INCOMPLETE",
        `the bundle does not carry the ${type} entry ${m.subject.id} it is about`,
        MANIFEST_PATH,
      );
      return undefined;
    }
    return s;
  };
  const findings: string[] = [];
  switch (m.kind) {
    case "report": {
      const opened = subjectOf("report.opened");
      if (!opened) return { findings, record: {} };
      const id = opened.leaf;
      const consults = new Set(
        included
          .filter((i) => i.entry.type === "consult.requested" && refOf(i.entry, "report").includes(id))
          .map((i) => i.leaf),
      );
      const sections = included.filter(
        (i) =>
          ((i.entry.type === "report.contribution" || i.entry.type === "report.amended") &&
            refOf(i.entry, "report").includes(id)) ||
          (i.entry.type === "consult.answered" && refOf(i.entry, "consult").some((c) => consults.has(c))),
      );
      const signed = included.filter(
        (i) => i.entry.type === "report.signed" && refOf(i.entry, "report").includes(id),
      );
      const dispositions = included.filter((i) => i.entry.type === "ai.finding.disposition");
      const inferences = included.filter((i) => i.entry.type === "ai.inference");
      for (const s of signed) {
        const listed = refOf(s.entry, "contributions");
        const missing = listed.filter((c) => !byLeaf.has(c));
        if (missing.length > 0)
          failures.add(
            "BUNDLE_INCOMPLETE",
            `${s.at}: the sign-off lists ${listed.length} contributions; ${missing.length} are not in the bundle`,
            s.at,
          );
        else
          findings.push(
            `The sign-off by ${name(s.entry.actor)} lists ${listed.length} contributions; all are in the bundle and verified.`,
          );
      }
      if (signed.length === 0) findings.push("The report is not signed as of this checkpoint.");
      const rows: JsonObject[] = sections.map((s) => {
        const b = s.entry.body;
        const commitment = str(b, "contentCommitment");
        return {
          index: s.index,
          type: s.entry.type,
          section: str(b, "section") ?? "",
          author: s.entry.actor,
          role: str(b, "role") ?? "",
          origin: str(b, "origin") ?? "",
          time: s.entry.time,
          disclosed: commitment !== undefined && disclosed.has(commitment),
          ...(refOf(s.entry, "inference")[0] ? { inference: refOf(s.entry, "inference")[0]! } : {}),
        };
      });
      findings.push(
        `Report ${short(id)} opened by ${name(opened.entry.actor)}: ${sections.length} attributed section${sections.length === 1 ? "" : "s"} ` +
          `(${sections.filter((s) => str(s.entry.body, "origin") !== "human").length} from AI), ${consults.size} consultation${consults.size === 1 ? "" : "s"}, ` +
          `${inferences.length} AI inference${inferences.length === 1 ? "" : "s"}, ${dispositions.length} disposition${dispositions.length === 1 ? "" : "s"}, ` +
          `${rows.filter((r) => r.disclosed === true).length} section text${rows.filter((r) => r.disclosed === true).length === 1 ? "" : "s"} disclosed.`,
      );
      return {
        findings,
        record: {
          report: id,
          sections: rows,
          signedBy: signed.map((s) => s.entry.actor),
          consultations: consults.size,
          inferences: inferences.length,
          dispositions: dispositions.length,
        },
      };
    }
    case "dataset":
      // Checked while the entries were read (dataset-check.ts); verify.ts always passes one for this kind.
      return dataset
        ? dataset.finish(subjectOf("dataset.created"), name, findings, failures, trees)
        : { findings, record: {} };
    case "trial":
    case "trial-subject": {
      const s = subjectOf(m.kind === "trial" ? "trial.registered" : "trial.subject.enrolled");
      if (!s) return { findings, record: {} };
      const count = (t: string): number => included.filter((i) => i.entry.type === t).length;
      const record = {
        subjects: count("trial.subject.enrolled"),
        timepoints: count("trial.timepoint.imaged"),
        reads: count("trial.read.recorded"),
        corrections: count("trial.correction"),
      };
      findings.push(
        `${m.kind === "trial" ? "Trial" : "Trial subject"} ${short(s.leaf)}: ${record.subjects} subject${record.subjects === 1 ? "" : "s"}, ` +
          `${record.timepoints} timepoint${record.timepoints === 1 ? "" : "s"}, ${record.reads} read${record.reads === 1 ? "" : "s"}, ` +
          `${record.corrections} correction${record.corrections === 1 ? "" : "s"} (every correction references the version it replaces).`,
      );
      return { findings, record: { id: s.leaf, ...record } };
    }
    case "access": {
      const accesses = included.filter((i) => i.entry.type === "access.recorded");
      for (const a of accesses)
        if (str(a.entry.body, "patient") !== m.subject.id)
          failures.add("BUNDLE_MALFORMED", `${a.at}: an access to another patient's record`, a.at);
      const permits = accesses.filter((a) => str(a.entry.body, "decision") === "permit").length;
      const breakGlass = accesses.filter((a) => {
        const basis = a.entry.body.basis;
        return typeof basis === "object" && !Array.isArray(basis) && basis.kind === "break-glass";
      }).length;
      const who = new Set(accesses.map((a) => str(a.entry.body, "actor") ?? ""));
      // Accesses another system reported (access.reported, IHE ATNA): statements signed by that
      // system's actor, about this patient too; the node decided none of them.
      const reported = included.filter((i) => i.entry.type === "access.reported");
      for (const a of reported)
        if (str(a.entry.body, "patient") !== m.subject.id)
          failures.add("BUNDLE_MALFORMED", `${a.at}: a reported access to another patient's record`, a.at);
      const reporters = new Set(reported.map((a) => a.entry.actor));
      findings.push(
        `Access history of ${m.subject.id}: ${accesses.length} recorded decision${accesses.length === 1 ? "" : "s"} ` +
          `(${permits} permitted, ${accesses.length - permits} denied, ${breakGlass} break-glass) by ${who.size} actor${who.size === 1 ? "" : "s"}.`,
      );
      if (reported.length > 0)
        findings.push(
          `${reported.length} access${reported.length === 1 ? "" : "es"} reported by ${reporters.size} other system${reporters.size === 1 ? "" : "s"} ` +
            `(IHE ATNA audit messages, each signed by the reporting system's actor; this node did not decide them).`,
        );
      return {
        findings,
        record: {
          patient: m.subject.id,
          accesses: accesses.length,
          permits,
          denies: accesses.length - permits,
          breakGlass,
          reported: reported.length,
        },
      };
    }
  }
}
