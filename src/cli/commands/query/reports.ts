/** `radledger query report`: a report with its per-section attribution, AI origin and amendments. */
import type { Command } from "commander";
import { reportView } from "../../../domain/reports/queries.js";
import { defineQuery, out, short } from "./common.js";

export function registerReportQueries(query: Command): void {
  defineQuery(query, {
    command: "report <id>",
    description:
      "a report with every section, its author, role, time, AI origin, consultations and amendments",
    answer: ({ log, args }) => reportView(log.store, log.resolveId("report", args[0]!)),
    print: (r) => {
      out(`report ${r.id}  (${r.status})  study ${short(r.study)}  patient ${r.patient}`);
      out(`opened by ${r.openedBy} at ${r.openedAt}`);
      for (const s of r.sections) {
        const ai = s.modelVersion
          ? `  AI ${s.origin}: ${s.modelVersion.vendor} ${s.modelVersion.name} ${s.modelVersion.version}`
          : "";
        out(
          `  ${s.time}  ${s.section.padEnd(17)} ${s.author}${s.authorName ? ` (${s.authorName})` : ""}, ${s.role}${s.specialty ? `, ${s.specialty}` : ""}${s.enteredBy ? `, entered by ${s.enteredBy}${s.enteredByName ? ` (${s.enteredByName})` : ""} on their behalf` : ""}${ai}`,
        );
      }
      for (const c of r.consultations)
        out(`  consultation ${short(c.id)}: ${c.from} → ${c.to} (${c.status})`);
      if (r.signOff)
        out(
          `  signed ${r.signOff.time} by ${r.signOff.by}${r.signOff.byName ? ` (${r.signOff.byName})` : ""}${r.signOff.enteredBy ? `, entered by ${r.signOff.enteredBy} on their behalf` : ""}, ${r.signOff.attestation}`,
        );
      if (r.cosignature)
        out(
          `  co-signed ${r.cosignature.time} by ${r.cosignature.by}${r.cosignature.byName ? ` (${r.cosignature.byName})` : ""}`,
        );
      for (const v of r.verifications)
        out(`  section ${short(v.contribution)} verified ${v.time} by ${v.by}`);
      for (const d of r.aiDispositions)
        out(
          `  AI ${d.findingId ? `finding ${d.findingId}` : "findings"} of inference ${short(d.inference)}: ${d.disposition} by ${d.by} at ${d.time}`,
        );
      for (const a of r.amendments)
        out(
          `  ${a.kind} ${a.time} ${a.section} by ${a.author}${a.enteredBy ? ` (entered by ${a.enteredBy})` : ""}, reason ${a.reason ?? "-"}${a.amends ? `, amends ${short(a.amends)}` : ""}`,
        );
      out(
        `  model versions used: ${r.models.map((m) => `${m.vendor} ${m.name} ${m.version}`).join("; ") || "none"}`,
      );
    },
  });
}
