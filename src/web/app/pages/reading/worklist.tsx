/**
 * The worklist (/reading): the consultations asked of the signed-in radiologist or clinician and
 * still open (GET /api/v1/consultations/mine), each linking to its report, where they answer it;
 * reports newest first with their stage, modality, opening time and the
 * people on them, filtered by stage and "mine" (GET /api/v1/reports?stage=&mine=&order=newest), and
 * the registered studies with their reports (GET /api/v1/studies); a radiologist opens a report on a
 * study (report.opened). Patients appear by pseudonym only.
 */
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api, ApiError } from "../../api.js";
import { usePaged } from "../../hooks.js";
import { useActor } from "../../session.js";
import {
  Badge,
  Button,
  DataTable,
  Id,
  Loading,
  More,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  Time,
  Toolbar,
} from "../../ui/index.js";
import {
  label,
  personName,
  STAGE_TONE,
  type AskedConsultation,
  type WorklistReport,
  type WorklistStudy,
} from "./model.js";

export function StageBadge(props: { stage: WorklistReport["stage"] }) {
  return <Badge tone={STAGE_TONE[props.stage]}>{label(props.stage)}</Badge>;
}

export function Worklist() {
  const actor = useActor();
  const [stage, setStage] = useState("");
  const [mine, setMine] = useState("all");
  const reports = usePaged<WorklistReport>(
    "/api/v1/reports",
    { order: "newest", stage, ...(mine === "mine" ? { mine: "true" } : {}) },
    50,
  );
  const studies = usePaged<WorklistStudy>("/api/v1/studies", {}, 50);
  const [, navigate] = useLocation();
  const [opening, setOpening] = useState<string | undefined>();
  const [openError, setOpenError] = useState<ApiError | undefined>();
  const radiologist = actor.roles.includes("radiologist");

  async function openReport(study: string) {
    setOpening(study);
    setOpenError(undefined);
    try {
      const r = await api<{ leafHash: string }>("/api/v1/entries/report.opened", {
        method: "POST",
        body: { body: { reportKind: "diagnostic" }, refs: { study } },
      });
      navigate(`/reports/${r.leafHash}`);
    } catch (e) {
      setOpenError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)));
    } finally {
      setOpening(undefined);
    }
  }

  return (
    <Page title="Worklist" lead="Reports and studies of this institution. Patients are shown by pseudonym.">
      {(radiologist || actor.roles.includes("clinician")) && <AskedOfMe />}
      <Section title="Reports">
        <Toolbar label="Filter reports">
          <SelectField
            label="Status"
            value={stage}
            onValue={setStage}
            options={[
              { value: "", label: "Any" },
              { value: "draft", label: "Draft" },
              { value: "signed", label: "Signed" },
              { value: "amended", label: "Amended" },
            ]}
          />
          <SelectField
            label="Whose"
            value={mine}
            onValue={setMine}
            options={[
              { value: "all", label: "Everyone's" },
              { value: "mine", label: "Mine (I am on the report)" },
            ]}
          />
        </Toolbar>
        <ProblemAlert error={reports.error} />
        {reports.loading && reports.items.length === 0 ? (
          <Loading />
        ) : (
          <DataTable
            caption="Reports, newest first"
            testId="worklist-reports"
            rows={reports.items}
            rowKey={(r) => r.id}
            empty="No reports match."
            columns={[
              {
                header: "Report",
                render: (r) => (
                  <Link href={`/reports/${r.id}`} aria-label={`Open report ${r.id.slice(0, 10)}`}>
                    <Id value={r.id} />
                  </Link>
                ),
              },
              { header: "Opened", render: (r) => <Time iso={r.openedAt} /> },
              {
                header: "Modality",
                render: (r) => `${r.modalities.join(", ")}${r.bodyPart ? ` · ${r.bodyPart}` : ""}`,
              },
              { header: "Status", render: (r) => <StageBadge stage={r.stage} /> },
              { header: "Patient", render: (r) => <Id value={r.patient} /> },
              {
                header: "On it",
                render: (r) => r.contributors.map(personName).join(", "),
              },
              {
                header: "Sections",
                render: (r) =>
                  `${r.sections}${r.amendments ? ` + ${r.amendments} amended` : ""}${
                    r.openConsultations ? ` · ${r.openConsultations} open consultation(s)` : ""
                  }`,
              },
            ]}
          />
        )}
        <More list={reports} />
      </Section>
      <Section title="Studies">
        <ProblemAlert error={openError} title="The report was not opened" />
        <ProblemAlert error={studies.error} />
        {studies.loading && studies.items.length === 0 ? (
          <Loading />
        ) : (
          <DataTable
            caption="Registered studies"
            testId="worklist-studies"
            rows={studies.items}
            rowKey={(s) => s.id}
            empty="No studies registered."
            columns={[
              { header: "Study", render: (s) => <Id value={s.id} /> },
              { header: "Registered", render: (s) => <Time iso={s.registeredAt} /> },
              {
                header: "Modality",
                render: (s) => `${s.modalities.join(", ")}${s.bodyPart ? ` · ${s.bodyPart}` : ""}`,
              },
              { header: "Patient", render: (s) => <Id value={s.patient} /> },
              {
                header: "Reports",
                render: (s) =>
                  s.reports.length === 0 ? (
                    radiologist ? (
                      <Button
                        onClick={() => void openReport(s.id)}
                        busy={opening === s.id}
                        aria-label={`Open a report on study ${s.id.slice(0, 10)}`}
                      >
                        Open a report
                      </Button>
                    ) : (
                      "None yet"
                    )
                  ) : (
                    <span class="reading-links">
                      {s.reports.map((r) => (
                        <Link key={r.id} href={`/reports/${r.id}`}>
                          <StageBadge stage={r.stage} /> <Id value={r.id} />
                        </Link>
                      ))}
                    </span>
                  ),
              },
            ]}
          />
        )}
        <More list={studies} />
      </Section>
    </Page>
  );
}

/** The consultations waiting for this person's answer; the answer is written on the report page. */
function AskedOfMe() {
  const asked = usePaged<AskedConsultation>("/api/v1/consultations/mine", {}, 50);
  return (
    <Section title="Consultations asked of you">
      <ProblemAlert error={asked.error} />
      {asked.loading && asked.items.length === 0 ? (
        <Loading />
      ) : (
        <DataTable
          caption="Open consultations asked of you, oldest first"
          testId="asked-of-me"
          rows={asked.items}
          rowKey={(c) => c.id}
          empty="Nothing is asked of you."
          columns={[
            {
              header: "Report",
              render: (c) => (
                <Link
                  href={`/reports/${c.report}`}
                  aria-label={`Answer the consultation on report ${c.report.slice(0, 10)}`}
                >
                  <Id value={c.report} />
                </Link>
              ),
            },
            { header: "Asked by", render: (c) => c.fromName ?? c.from },
            { header: "Specialty", render: (c) => (c.specialty ? label(c.specialty) : "—") },
            { header: "Asked", render: (c) => <Time iso={c.requestedAt} /> },
            {
              header: "Modality",
              render: (c) => `${c.modalities.join(", ")}${c.bodyPart ? ` · ${c.bodyPart}` : ""}`,
            },
            { header: "Status", render: (c) => <StageBadge stage={c.reportStage} /> },
            { header: "Patient", render: (c) => <Id value={c.patient} /> },
          ]}
        />
      )}
      <More list={asked} />
    </Section>
  );
}
