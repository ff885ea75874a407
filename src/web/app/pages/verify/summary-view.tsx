/**
 * What a bundle says, as the verify page shows it: the worker's summary (src/web/verifier/summary.ts),
 * built only from bytes the core verified and only for a bundle that did not fail. Per kind: a
 * report's sections with their disclosed text and who wrote them (AI sections badged with vendor,
 * model, version and disposition), consultations and sign-offs; an access history's accesses; a
 * trial's timeline with its corrections; a dataset version's credits. `trusted` is false for an
 * UNTRUSTED bundle: the same content, framed as the bundle's claim, never as verified.
 */
import type {
  AccessItem,
  BundleSummary,
  Person,
  ReportSummary,
  SectionItem,
  TimelineItem,
} from "../../../verifier/summary.js";
import { Badge, DataTable, Facts, Id, Section, Time } from "../../ui/index.js";

function Who(props: { p: Person }) {
  const { p } = props;
  return (
    <span class="who">
      {p.name ? `${p.name} ` : ""}
      <Id value={p.actor} />
      {p.roles && p.roles.length > 0 ? <span class="v-muted"> {p.roles.join(", ")}</span> : null}
    </span>
  );
}

function Ai(props: { s: SectionItem }) {
  const ai = props.s.ai;
  if (props.s.origin === "human" || !ai) return null;
  const what = [ai.vendor, ai.model, ai.version].filter(Boolean).join(" ");
  return (
    <span class="ai-source">
      <Badge tone="ai">{props.s.origin === "ai-modified" ? "AI, modified" : "AI"}</Badge> {what}
      {ai.disposition ? <Badge tone="neutral">{ai.disposition}</Badge> : null}
    </span>
  );
}

function ReportView(props: { r: ReportSummary; title: string }) {
  const { r } = props;
  return (
    <>
      <Section title={props.title}>
        <Facts
          items={[
            ["Report", <Id value={r.id} />],
            ["Kind", r.reportKind || "—"],
            ["Opened by", <Who p={r.openedBy} />],
            ["Opened", <Time iso={r.opened || undefined} />],
            [
              "Signed off",
              r.signOffs.length === 0 ? (
                "not signed as of this checkpoint"
              ) : (
                <ul class="v-plain">
                  {r.signOffs.map((s) => (
                    <li key={s.index}>
                      <Who p={s.by} /> · {s.attestation} · <Time iso={s.time} />
                    </li>
                  ))}
                </ul>
              ),
            ],
          ]}
        />
        <ol class="sections" data-testid="report-sections">
          {r.sections.map((s) => (
            <li key={s.index} class="section-item" data-section={s.section}>
              <div class="section-head">
                <h3>{s.section.replace(/-/g, " ")}</h3>
                {s.amendment ? (
                  <Badge tone="warning">
                    {s.amendment.kind}
                    {s.amendment.reason ? `: ${s.amendment.reason}` : ""}
                  </Badge>
                ) : null}
                {s.type === "consult.answered" ? <Badge tone="info">consultation</Badge> : null}
                <Ai s={s} />
              </div>
              {s.text === undefined ? (
                <p class="v-muted">Text not disclosed in this bundle (its commitment is on the log).</p>
              ) : (
                <p class="section-text">{s.text}</p>
              )}
              <p class="attribution">
                <Who p={s.author} /> as {s.role}
                {s.onBehalfOf ? (
                  <>
                    {" "}
                    for <Who p={s.onBehalfOf} />
                  </>
                ) : null}{" "}
                · <Time iso={s.time} /> · entry {s.index}
              </p>
            </li>
          ))}
        </ol>
      </Section>
      {r.consultations.length > 0 && (
        <Section title="Consultations">
          <DataTable
            caption="Consultations requested on this report"
            rowKey={(c) => String(c.index)}
            rows={r.consultations}
            columns={[
              { header: "Asked by", render: (c) => <Who p={c.from} /> },
              { header: "Asked", render: (c) => <Who p={c.to} /> },
              { header: "Question", render: (c) => c.question ?? "not disclosed" },
              { header: "When", render: (c) => <Time iso={c.time} /> },
            ]}
          />
        </Section>
      )}
    </>
  );
}

function AccessView(props: { items: readonly AccessItem[]; patient: string; title: string }) {
  return (
    <Section title={props.title}>
      <p>
        Patient <Id value={props.patient} full />: {props.items.length} recorded decision
        {props.items.length === 1 ? "" : "s"}, every one signed by the institution.
      </p>
      <DataTable
        caption="Accesses in the bundle"
        testId="accesses"
        rowKey={(a) => String(a.index)}
        rows={props.items}
        empty="No access is recorded in this bundle."
        columns={[
          { header: "When", render: (a) => <Time iso={a.time} /> },
          { header: "Who", render: (a) => <Who p={a.who} /> },
          { header: "Part", render: (a) => a.part || "—" },
          { header: "Action", render: (a) => a.action },
          { header: "Purpose", render: (a) => a.purpose },
          {
            header: "Decision",
            render: (a) => (
              <Badge tone={a.decision === "permit" ? "neutral" : "danger"}>
                {a.decision}
                {a.reason ? `: ${a.reason}` : ""}
              </Badge>
            ),
          },
          { header: "Basis", render: (a) => a.basis || "—" },
          { header: "Review", render: (a) => a.review ?? "—" },
        ]}
      />
    </Section>
  );
}

function TimelineView(props: { items: readonly TimelineItem[]; title: string }) {
  return (
    <Section title={props.title}>
      <DataTable
        caption="The trial's timeline, in log order"
        testId="timeline"
        rowKey={(t) => String(t.index)}
        rows={props.items}
        columns={[
          { header: "Entry", render: (t) => t.index },
          { header: "When", render: (t) => <Time iso={t.time} /> },
          {
            header: "What",
            render: (t) => (
              <>
                {t.what}
                {t.supersededBy !== undefined ? (
                  <>
                    {" "}
                    <Badge tone="warning">superseded by entry {t.supersededBy}</Badge>
                  </>
                ) : null}
              </>
            ),
          },
          {
            header: "Detail",
            render: (t) => (
              <>
                {t.detail}
                {t.corrects !== undefined ? ` (corrects entry ${t.corrects})` : ""}
              </>
            ),
          },
          { header: "By", render: (t) => <Who p={t.by} /> },
        ]}
      />
    </Section>
  );
}

function DatasetView(props: { d: NonNullable<BundleSummary["dataset"]>; title: string }) {
  const { d } = props;
  return (
    <Section title={props.title}>
      <Facts
        items={[
          [
            "Dataset",
            d.name ? (
              <>
                {d.name} <Id value={d.id} />
              </>
            ) : (
              <Id value={d.id} />
            ),
          ],
          ["Version", String(d.version)],
          ["Items", d.items === undefined ? "—" : String(d.items)],
          ["Annotations", d.annotations === undefined ? "—" : String(d.annotations)],
          ["Manifest root", <Id value={d.manifestRoot} />],
          [
            "Shared with",
            d.shares.length === 0
              ? "—"
              : d.shares.map((s) => s.grantee + (s.purpose ? ` (${s.purpose})` : "")).join(", "),
          ],
        ]}
      />
      <DataTable
        caption="Credits: every contributor of this version, from their signed additions"
        testId="credits"
        rowKey={(c) => c.who.actor}
        rows={d.credit}
        columns={[
          { header: "Contributor", render: (c) => <Who p={c.who} /> },
          { header: "Items", render: (c) => c.items },
          { header: "Annotations", render: (c) => c.annotations },
          { header: "Vendor contributions", render: (c) => c.vendor },
        ]}
      />
    </Section>
  );
}

export function SummaryView(props: { summary: BundleSummary; trusted: boolean }) {
  const { summary, trusted } = props;
  const title = (what: string): string =>
    trusted ? `What was verified: ${what}` : `What the bundle claims: ${what} (not verified)`;
  return (
    <div class={`summary summary-${trusted ? "verified" : "untrusted"}`} data-testid="summary">
      {summary.tooLarge && !summary.dataset && (
        <p class="v-muted">
          This bundle is too large to list its entries here; the verdict covers all of them.
        </p>
      )}
      {summary.report && <ReportView r={summary.report} title={title("the report")} />}
      {summary.accesses && (
        <AccessView
          items={summary.accesses.items}
          patient={summary.accesses.patient}
          title={title("the accesses")}
        />
      )}
      {summary.timeline && <TimelineView items={summary.timeline} title={title("the trial timeline")} />}
      {summary.dataset && <DatasetView d={summary.dataset} title={title("the dataset credits")} />}
    </div>
  );
}
