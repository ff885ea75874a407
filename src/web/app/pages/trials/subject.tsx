/**
 * A trial subject's timeline (GET /api/v1/trial-subjects/:id/timeline): enrolment, timepoints,
 * reads and every correction in log order. Nothing is hidden — a superseded version stays listed,
 * marked as such and linked to the correction that replaced it, with the correction's reason
 * (docs/families/trials.md: corrections form one chain per record, never a silent replacement).
 * Each current timepoint also lists its reads (GET /api/v1/trial-timepoints/:id/reads).
 */
import type { ComponentChildren } from "preact";
import { Link } from "wouter-preact";
import { useApi, usePaged } from "../../hooks.js";
import { ActorName } from "../../ui/actor-name.js";
import { DownloadButton } from "../../ui/download-button.js";
import {
  Badge,
  DataTable,
  Facts,
  Id,
  Loaded,
  Loading,
  More,
  Page,
  ProblemAlert,
  Section,
  Time,
} from "../../ui/index.js";
import { bundleName } from "./trials.js";
import { reasonLabel, type Timeline, type TimelineItem, type TrialRead } from "./types.js";

export function SubjectPage(props: { id: string }) {
  const path = `/api/v1/trial-subjects/${props.id}/timeline`;
  // The subject and trial come with any page of the timeline; the entries are paged below.
  const head = useApi<Timeline>(path, { limit: 1 });
  const timeline = usePaged<TimelineItem>(path);
  const currentTimepoints = timeline.items.filter((i) => i.kind === "timepoint" && i.current);
  return (
    <Page
      title={head.data ? `Subject in ${head.data.trial.protocolId}` : "Trial subject"}
      lead={head.data ? `${head.data.trial.protocolId} · ${head.data.trial.sponsor}` : undefined}
      actions={
        <DownloadButton
          path={`/api/v1/bundles/trial-subject/${props.id}`}
          filename={bundleName("trial-subject", props.id)}
        >
          Download subject bundle
        </DownloadButton>
      }
    >
      <Loaded state={head}>
        {(h) => (
          <>
            <p>
              <Link href={`/${h.trial.id}`}>Back to trial {h.trial.protocolId}</Link>
            </p>
            <Section title="Subject">
              <Facts
                items={[
                  ["Trial pseudonym", <Id value={h.subject.subject} full />],
                  ["Site", h.subject.site ?? "—"],
                  ["Enrolled by", <ActorName id={h.subject.enrolledBy} />],
                  ["Enrolled", <Time iso={h.subject.enrolledAt} />],
                  ["Subject id", <Id value={h.subject.id} />],
                ]}
              />
            </Section>
          </>
        )}
      </Loaded>
      <Section title="Timeline">
        <p class="hint">
          Every signed entry about this subject in log order. A corrected version stays here, marked
          superseded, next to the correction that replaced it.
        </p>
        <ProblemAlert error={timeline.error} />
        {timeline.loading && timeline.items.length === 0 ? (
          <Loading />
        ) : (
          <DataTable
            caption="Timeline of this subject"
            testId="timeline"
            rows={timeline.items}
            rowKey={(i) => i.id}
            empty="Nothing recorded yet."
            columns={[
              {
                header: "When",
                render: (i) => (
                  <span id={`entry-${i.id}`}>
                    <Time iso={i.time} />
                    <br />
                    <small>log index {i.index}</small>
                  </span>
                ),
              },
              { header: "Record", render: recordCell },
              { header: "Change", render: changeCell },
              { header: "Data", render: dataCell },
              { header: "Signed by", render: (i) => <ActorName id={i.actor} /> },
              { header: "Status", render: statusCell },
            ]}
          />
        )}
        <More list={timeline} />
      </Section>
      {currentTimepoints.map((tp) => (
        <TimepointReads key={tp.record} item={tp} />
      ))}
    </Page>
  );
}

function recordCell(i: TimelineItem): ComponentChildren {
  if (i.kind === "enrolment") return "Enrolment";
  if (i.kind === "timepoint") return `Timepoint ${i.timepoint ?? ""}`;
  return `Read of ${i.timepoint ?? "a timepoint"}`;
}

function changeCell(i: TimelineItem): ComponentChildren {
  if (i.corrects === undefined) return "Original";
  return (
    <span class="correction">
      <Badge tone="info">Correction</Badge> of version{" "}
      <a href={`#entry-${i.corrects}`}>{short(i.corrects)}</a>
      <br />
      Reason: <strong>{reasonLabel(i.reason)}</strong> <code>{i.reason}</code>
      {i.reasonCommitment !== undefined && (
        <>
          <br />
          <small>
            Explanation kept in the vault; commitment <Id value={i.reasonCommitment} />
          </small>
        </>
      )}
    </span>
  );
}

function dataCell(i: TimelineItem): ComponentChildren {
  const d = i.data;
  if (i.kind === "enrolment")
    return (
      <>
        {d.site !== undefined && <>Site {d.site}</>}
        {d.subject !== undefined && (
          <>
            {" "}
            <Id value={d.subject} />
          </>
        )}
      </>
    );
  if (i.kind === "timepoint")
    return (
      <>
        {d.modality}, {d.instanceCount} instances
        {d.deidentification !== undefined && <>, de-identified {d.deidentification}</>}
        <br />
        images <Id value={d.manifestRoot ?? ""} />
      </>
    );
  return (
    <>
      {d.blinded ? "Blinded" : "Unblinded"} read
      {d.criteria !== undefined && <>, {d.criteria}</>}
      {d.response !== undefined && <>, response {d.response}</>}
      <br />
      images <Id value={d.manifestRoot ?? ""} />
      {i.imagesCurrent === false && (
        <>
          {" "}
          <Badge tone="warning">images since corrected</Badge>
        </>
      )}
    </>
  );
}

function statusCell(i: TimelineItem): ComponentChildren {
  if (i.correctedBy !== undefined)
    return (
      <>
        <Badge tone="warning">Superseded</Badge> by{" "}
        <a href={`#entry-${i.correctedBy}`}>{short(i.correctedBy)}</a>
      </>
    );
  return i.current ? <Badge tone="success">Current</Badge> : <Badge>Earlier version</Badge>;
}

const short = (id: string): string => `${id.slice(0, 10)}…`;

/** One timepoint's current images and its reads. */
function TimepointReads(props: { item: TimelineItem }) {
  const tp = props.item;
  const reads = usePaged<TrialRead>(`/api/v1/trial-timepoints/${tp.record}/reads`);
  return (
    <Section title={`Reads of ${tp.timepoint ?? "timepoint"}`}>
      <ProblemAlert error={reads.error} />
      {reads.loading && reads.items.length === 0 ? (
        <Loading />
      ) : (
        <DataTable
          caption={`Reads of timepoint ${tp.timepoint ?? ""}`}
          testId={`reads-${tp.timepoint ?? tp.record}`}
          rows={reads.items}
          rowKey={(r) => r.id}
          empty="Not read yet."
          columns={[
            { header: "Reader", render: (r) => <ActorName id={r.reader} /> },
            { header: "Blinded", render: (r) => (r.blinded ? "yes" : "no") },
            { header: "Criteria", render: (r) => r.criteria ?? "—" },
            { header: "Response", render: (r) => r.response ?? "—" },
            {
              header: "Images read",
              render: (r) =>
                r.manifestRoot === tp.data.manifestRoot ? (
                  <Badge tone="success">current images</Badge>
                ) : (
                  <Badge tone="warning">images since corrected</Badge>
                ),
            },
            { header: "Measurements", render: (r) => <Id value={r.measurements} /> },
            { header: "Corrections", render: (r) => r.corrections },
          ]}
        />
      )}
      <More list={reads} />
    </Section>
  );
}
