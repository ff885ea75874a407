/**
 * `radledger query …`: the record families' queries from the command line, read-only (works while
 * the node serves). Human-readable by default; with --json one JSON document on stdout. Record ids
 * may be given as unique prefixes (≥ 6 hex digits).
 */
import type { Command } from "commander";
import { formatTime } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import { openReadOnly, type ReadOnlyLog } from "../../wiring/read-only.js";
import { reportView, listReports } from "../../domain/reports/queries.js";
import { aiRecall, listModels } from "../../domain/ai/queries.js";
import { listPatients, listStudies, studyRecord } from "../../domain/imaging/queries.js";
import {
  accessHistory,
  accessesByActor,
  breakGlassQueue,
  type AccessView,
} from "../../domain/access/queries.js";
import { decide, accessQuery, type AccessQuery } from "../../domain/consent/decide.js";
import { grantsOfPatient } from "../../domain/consent/queries.js";
import { listTrials, subjectTimeline } from "../../domain/trials/queries.js";
import { creditReport, listDatasets } from "../../domain/datasets/queries.js";
import { printJson } from "../output.js";

interface Common {
  data: string;
  json?: boolean;
}

const out = (line = ""): void => {
  process.stdout.write(line + "\n");
};
const short = (id: string): string => id.slice(0, 12);

async function withLog(o: Common, run: (log: ReadOnlyLog) => unknown): Promise<void> {
  const log = openReadOnly(o.data);
  try {
    const result = run(log);
    if (o.json) printJson(result);
  } finally {
    log.close();
  }
}

function pageOptions(o: { limit?: string; after?: string }): { limit?: number; after?: number } {
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d{1,15}$/.test(v))
      throw new RadledgerError("CLI_USAGE", `--${name} must be a non-negative integer`);
    return Number(v);
  };
  const limit = num(o.limit, "limit");
  const after = num(o.after, "after");
  return { ...(limit === undefined ? {} : { limit }), ...(after === undefined ? {} : { after }) };
}

function printAccess(a: AccessView): void {
  const who = a.who.displayName ? `${a.who.actor} (${a.who.displayName})` : a.who.actor;
  const why = a.decision === "permit" ? `basis ${a.basis?.kind ?? "?"}` : `reason ${a.reason ?? "?"}`;
  const part = a.part.kind === "record" ? "whole record" : `${a.part.kind} ${short(a.part.id)}`;
  out(
    `${a.time}  ${a.decision.padEnd(6)} ${who}  ${a.action} ${part}  purpose ${a.purpose}  ${why}${a.review?.open ? "  [break-glass: awaiting review]" : ""}`,
  );
}

/** Parses --part kind:id[:study[:report]] into a decide() part. */
function parsePart(text: string): AccessQuery["part"] {
  const [kind, id, study, report] = text.split(":");
  const part: Record<string, string> = { kind: kind ?? "", id: id ?? "" };
  if (kind === "report-section") {
    if (report !== undefined) part.report = report;
    if (study !== undefined) part.study = study;
  } else if (study !== undefined) part.study = study;
  return part as unknown as AccessQuery["part"];
}

export function registerQuery(program: Command): void {
  const query = program.command("query").description("answer the record families' questions (read-only)");
  const common = (c: Command): Command =>
    c.requiredOption("--data <dir>", "data directory").option("--json", "print one JSON document");

  common(
    query
      .command("report <id>")
      .description(
        "a report with every section, its author, role, time, AI origin, consultations and amendments",
      ),
  ).action(async (id: string, o: Common) =>
    withLog(o, (log) => {
      const r = reportView(log.store, log.resolveId("report", id));
      if (o.json) return r;
      out(`report ${r.id}  (${r.status})  study ${short(r.study)}  patient ${r.patient}`);
      out(`opened by ${r.openedBy} at ${r.openedAt}`);
      for (const s of r.sections) {
        const ai = s.modelVersion
          ? `  AI ${s.origin}: ${s.modelVersion.vendor} ${s.modelVersion.name} ${s.modelVersion.version}`
          : "";
        out(
          `  ${s.time}  ${s.section.padEnd(17)} ${s.author}${s.authorName ? ` (${s.authorName})` : ""}, ${s.role}${s.specialty ? `, ${s.specialty}` : ""}${ai}`,
        );
      }
      for (const c of r.consultations)
        out(`  consultation ${short(c.id)}: ${c.from} → ${c.to} (${c.status})`);
      if (r.signOff)
        out(
          `  signed ${r.signOff.time} by ${r.signOff.by}${r.signOff.byName ? ` (${r.signOff.byName})` : ""}, ${r.signOff.attestation}`,
        );
      for (const a of r.amendments)
        out(
          `  ${a.kind} ${a.time} ${a.section} by ${a.author}, reason ${a.reason ?? "-"}${a.amends ? `, amends ${short(a.amends)}` : ""}`,
        );
      out(
        `  model versions used: ${r.models.map((m) => `${m.vendor} ${m.name} ${m.version}`).join("; ") || "none"}`,
      );
      return r;
    }),
  );

  common(
    query
      .command("ai-recall")
      .description(
        "every report, study and patient touched by a model version, directly or through an amendment",
      )
      .option("--model <id>", "model version id (ai.model.registered entry)")
      .option("--vendor <vendor>")
      .option("--name <name>")
      .option("--model-version <version>"),
  ).action(async (o: Common & { model?: string; vendor?: string; name?: string; modelVersion?: string }) =>
    withLog(o, (log) => {
      let r;
      if (o.model !== undefined) r = aiRecall(log.store, { id: log.resolveId("ai.model", o.model) });
      else if (o.vendor !== undefined && o.name !== undefined && o.modelVersion !== undefined)
        r = aiRecall(log.store, { vendor: o.vendor, name: o.name, version: o.modelVersion });
      else throw new RadledgerError("CLI_USAGE", "give --model ID, or --vendor, --name and --model-version");
      if (o.json) return r;
      out(
        `${r.model.vendor} ${r.model.name} ${r.model.version} (${r.model.status}): ${r.reports.length} reports, ${r.studies.length} studies, ${r.patients.length} patients`,
      );
      for (const id of r.reports) out(`  report  ${id}`);
      for (const id of r.studies) out(`  study   ${id}`);
      for (const id of r.patients) out(`  patient ${id}`);
      return r;
    }),
  );

  common(
    query
      .command("access-history")
      .description("who accessed which part of a patient's record, when, why, on what basis (newest first)")
      .requiredOption("--patient <pseudonym>")
      .option("--limit <n>")
      .option("--after <cursor>"),
  ).action(async (o: Common & { patient: string; limit?: string; after?: string }) =>
    withLog(o, (log) => {
      const page = accessHistory(log.store, o.patient, pageOptions(o));
      if (o.json) return page;
      page.items.forEach(printAccess);
      if (page.items.length === 0) out("no accesses recorded");
      if (page.next !== undefined) out(`more: --after ${page.next}`);
      return page;
    }),
  );

  common(
    query
      .command("break-glass-queue")
      .description("break-glass accesses awaiting an auditor's review (oldest first)")
      .option("--limit <n>")
      .option("--after <cursor>"),
  ).action(async (o: Common & { limit?: string; after?: string }) =>
    withLog(o, (log) => {
      const page = breakGlassQueue(log.store, pageOptions(o));
      if (o.json) return page;
      page.items.forEach(printAccess);
      if (page.items.length === 0) out("the review queue is empty");
      return page;
    }),
  );

  common(
    query
      .command("accesses-by-actor")
      .description("every access decision about one actor")
      .requiredOption("--actor <id>")
      .option("--limit <n>")
      .option("--after <cursor>"),
  ).action(async (o: Common & { actor: string; limit?: string; after?: string }) =>
    withLog(o, (log) => {
      const page = accessesByActor(log.store, o.actor, pageOptions(o));
      if (o.json) return page;
      page.items.forEach(printAccess);
      return page;
    }),
  );

  common(
    query
      .command("consent-decision")
      .description("what the gatekeeper would decide now (nothing is recorded)")
      .requiredOption("--actor <id>")
      .requiredOption("--patient <pseudonym>")
      .requiredOption(
        "--part <kind:id[:study]>",
        "e.g. study:<id>, report:<id>:<study id>, series:<se_…>:<study id>",
      )
      .requiredOption("--purpose <code>", "HL7 PurposeOfUse, e.g. TREAT, ETREAT, HRESCH")
      .option("--time <rfc3339>", "decision time (default now)")
      .option("--break-glass <reason>", "request break-glass with a reason code"),
  ).action(
    async (
      o: Common & {
        actor: string;
        patient: string;
        part: string;
        purpose: string;
        time?: string;
        breakGlass?: string;
      },
    ) =>
      withLog(o, (log) => {
        const parsed = accessQuery.safeParse({
          actor: o.actor,
          patient: o.patient,
          part: parsePart(o.part),
          purpose: o.purpose,
          time: o.time ?? formatTime(Date.now()),
          ...(o.breakGlass === undefined ? {} : { breakGlass: { reason: o.breakGlass } }),
        });
        if (!parsed.success)
          throw new RadledgerError(
            "CLI_USAGE",
            `invalid query: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`,
          );
        const d = decide(log.store, parsed.data as AccessQuery);
        if (o.json) return d;
        out(
          d.decision === "permit"
            ? `permit (basis ${d.basis.kind}${d.review ? ", flagged for review" : ""})`
            : `deny (${d.reason})`,
        );
        return d;
      }),
  );

  common(
    query
      .command("grants")
      .description("a patient's consent grants with their status")
      .requiredOption("--patient <pseudonym>"),
  ).action(async (o: Common & { patient: string }) =>
    withLog(o, (log) => {
      const grants = grantsOfPatient(log.store, o.patient);
      if (o.json) return grants;
      for (const g of grants)
        out(
          `${g.id}  ${g.status.padEnd(8)} to ${g.grantee.kind} ${g.grantee.id}  scope ${g.scope}  purposes ${g.purposes.join(",")}`,
        );
      if (grants.length === 0) out("no grants");
      return grants;
    }),
  );

  common(
    query
      .command("trial-timeline")
      .description("a trial subject's timeline with every correction visible")
      .requiredOption("--subject <id>", "trial.subject.enrolled entry id"),
  ).action(async (o: Common & { subject: string }) =>
    withLog(o, (log) => {
      const t = subjectTimeline(log.store, log.resolveId("trial.subject", o.subject), { limit: 1000 });
      if (o.json) return t;
      out(`trial ${t.trial.sponsor} ${t.trial.protocolId}, subject ${t.subject.subject}`);
      for (const item of t.items) {
        const flags = [
          item.current ? "current" : "superseded",
          item.corrects ? `corrects ${short(item.corrects)}` : "",
          item.correctedBy ? `corrected by ${short(item.correctedBy)}` : "",
        ]
          .filter(Boolean)
          .join(", ");
        out(
          `  ${item.time}  ${(item.timepoint ? `${item.kind} ${item.timepoint}` : item.kind).padEnd(18)} ${short(item.id)}  by ${item.actor}  (${flags})`,
        );
      }
      return t;
    }),
  );

  common(
    query
      .command("dataset-credits")
      .description("who contributed what to a dataset version, counted")
      .requiredOption("--dataset <id>")
      .option("--dataset-version <n>", "version (default: the latest sealed)"),
  ).action(async (o: Common & { dataset: string; datasetVersion?: string }) =>
    withLog(o, (log) => {
      const version = o.datasetVersion === undefined ? undefined : Number(o.datasetVersion);
      if (version !== undefined && !Number.isSafeInteger(version))
        throw new RadledgerError("CLI_USAGE", "--dataset-version must be an integer");
      const r = creditReport(log.store, log.resolveId("dataset", o.dataset), version);
      if (o.json) return r;
      out(
        `${r.dataset.name} v${r.version} (${r.sealed ? `sealed, manifest root ${r.seal?.manifestRoot}` : "open, provisional"})`,
      );
      out(
        `  ${r.totals.contributors} contributors, ${r.totals.items} items, ${r.totals.annotations} annotations, ${r.totals.vendorContributions} vendor contributions`,
      );
      for (const c of r.contributors)
        out(
          `  ${c.actor}${c.displayName ? ` (${c.displayName})` : ""}: ${c.items} items, ${c.annotations} annotations, ${c.vendorContributions} vendor contributions`,
        );
      return r;
    }),
  );

  common(
    query.command("study <id>").description("a study's record and every entry that references it"),
  ).action(async (id: string, o: Common) =>
    withLog(o, (log) => {
      const r = studyRecord(log.store, log.resolveId("study", id));
      if (o.json) return r;
      out(
        `study ${r.study.id}  patient ${r.study.patient}  ${r.study.modalities.join(",")} ${r.study.bodyPart ?? ""}  ${r.study.instanceCount} instances`,
      );
      for (const e of r.referencedBy) out(`  #${e.index} ${e.time} ${e.type} by ${e.actor} (as ${e.ref})`);
      return r;
    }),
  );

  const kinds = ["studies", "reports", "models", "patients", "trials", "datasets"] as const;
  common(
    query
      .command("list <kind>")
      .description(`list what exists, with ids: ${kinds.join(", ")}`)
      .option("--limit <n>", "at most this many", "1000"),
  ).action(async (kind: string, o: Common & { limit: string }) =>
    withLog(o, (log) => {
      const limit = Number(o.limit);
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new RadledgerError("CLI_USAGE", "--limit must be a positive integer");
      const s = log.store;
      let items: { id: string; [k: string]: unknown }[];
      switch (kind) {
        case "studies":
          items = listStudies(s, { limit }).items.map((x) => ({
            id: x.id,
            patient: x.patient,
            modalities: x.modalities,
            bodyPart: x.bodyPart,
            instanceCount: x.instanceCount,
          }));
          break;
        case "reports":
          items = listReports(s, { limit }).items;
          break;
        case "models":
          items = listModels(s, { limit }).items;
          break;
        case "patients":
          items = listPatients(s, { limit }).items;
          break;
        case "trials":
          items = listTrials(s, { limit }).items.map((t) => ({
            id: t.id,
            sponsor: t.sponsor,
            protocolId: t.protocolId,
            subjects: t.subjects,
          }));
          break;
        case "datasets":
          items = listDatasets(s, { limit }).items.map((x) => ({
            id: x.id,
            name: x.name,
            openVersion: x.openVersion,
            items: x.items,
          }));
          break;
        default:
          throw new RadledgerError("CLI_USAGE", `unknown kind ${kind}; one of ${kinds.join(", ")}`);
      }
      if (o.json) return items;
      for (const item of items) {
        const rest = Object.entries(item)
          .filter(([k]) => k !== "id")
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
          .join("  ");
        out(`${item.id}  ${rest}`);
      }
      if (items.length === 0) out(`no ${kind}`);
      return items;
    }),
  );
}
