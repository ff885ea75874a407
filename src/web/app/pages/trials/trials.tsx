/** The trials of this log, and one trial with its subjects (GET /api/v1/trials, …/:id, …/:id/subjects). */
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api, ApiError } from "../../api.js";
import { useApi, usePaged } from "../../hooks.js";
import { ActorName } from "../../ui/actor-name.js";
import { DownloadButton } from "../../ui/download-button.js";
import {
  Button,
  DataTable,
  Facts,
  Form,
  Id,
  Loaded,
  Loading,
  More,
  Page,
  ProblemAlert,
  Section,
  TextField,
  Time,
} from "../../ui/index.js";
import type { Trial, TrialSubject } from "./types.js";

/** The bundle's file name, as the node names it (src/api/bundle-routes.ts). */
export const bundleName = (kind: string, id: string): string => `${kind}-${id.slice(0, 16)}.radledger.tar`;

export function TrialList() {
  const trials = usePaged<Trial>("/api/v1/trials");
  return (
    <Page
      title="Trials"
      lead="Clinical trials registered at this site: their subjects, imaging timepoints, reads and every correction, each signed on the log."
    >
      <ProblemAlert error={trials.error} />
      <Section title="Registered trials">
        {trials.loading && trials.items.length === 0 ? (
          <Loading />
        ) : (
          <DataTable
            caption="Registered trials"
            testId="trials"
            rows={trials.items}
            rowKey={(t) => t.id}
            empty="No trial is registered in this log."
            columns={[
              { header: "Protocol", render: (t) => <Link href={`/${t.id}`}>{t.protocolId}</Link> },
              { header: "Title", render: (t) => t.title ?? "—" },
              { header: "Sponsor", render: (t) => t.sponsor },
              { header: "Timepoints", render: (t) => t.timepoints?.join(", ") ?? "any" },
              { header: "Subjects", render: (t) => t.subjects },
              { header: "Registered", render: (t) => <Time iso={t.registeredAt} /> },
            ]}
          />
        )}
        <More list={trials} />
      </Section>
    </Page>
  );
}

export function TrialPage(props: { id: string }) {
  const trial = useApi<Trial>(`/api/v1/trials/${props.id}`);
  const subjects = usePaged<TrialSubject>(`/api/v1/trials/${props.id}/subjects`);
  const t = trial.data;
  return (
    <Page
      title={t ? `Trial ${t.protocolId}` : "Trial"}
      lead={t?.title}
      actions={
        <DownloadButton path={`/api/v1/bundles/trial/${props.id}`} filename={bundleName("trial", props.id)}>
          Download trial bundle
        </DownloadButton>
      }
    >
      <p>
        <Link href="/">All trials</Link>
      </p>
      <Loaded state={trial}>
        {(t) => (
          <Section title="Protocol">
            <Facts
              items={[
                ["Sponsor", t.sponsor],
                ["Protocol", t.protocolId],
                ["Registry id", t.registryId ?? "—"],
                ["Timepoints", t.timepoints?.join(", ") ?? "any label"],
                ["Subjects", t.subjects],
                ["Registered by", <ActorName id={t.registeredBy} />],
                ["Registered", <Time iso={t.registeredAt} />],
                ["Trial id", <Id value={t.id} />],
              ]}
            />
          </Section>
        )}
      </Loaded>
      <Section title="Subjects">
        <FindSubject trial={props.id} />
        <ProblemAlert error={subjects.error} />
        {subjects.loading && subjects.items.length === 0 ? (
          <Loading />
        ) : (
          <DataTable
            caption="Subjects of this trial"
            testId="subjects"
            rows={subjects.items}
            rowKey={(s) => s.id}
            empty="No subject is enrolled yet."
            columns={[
              {
                header: "Subject",
                render: (s) => (
                  <Link href={`/subjects/${s.id}`} aria-label={`Timeline of subject ${s.subject}`}>
                    <code class="id">{s.subject}</code>
                  </Link>
                ),
              },
              { header: "Site", render: (s) => s.site ?? "—" },
              { header: "Enrolled by", render: (s) => <ActorName id={s.enrolledBy} /> },
              { header: "Enrolled", render: (s) => <Time iso={s.enrolledAt} /> },
            ]}
          />
        )}
        <More list={subjects} />
      </Section>
    </Page>
  );
}

/** Opens a subject by the trial pseudonym a site or sponsor holds (GET …/subjects/by-pseudonym/:ts). */
function FindSubject(props: { trial: string }) {
  const [, navigate] = useLocation();
  const [pseudonym, setPseudonym] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [invalid, setInvalid] = useState<string>();
  return (
    <Form
      class="toolbar"
      label="Find a subject"
      onSubmit={() => {
        const ts = pseudonym.trim();
        if (!/^ts_[A-Za-z0-9_-]+$/.test(ts)) {
          setInvalid("A trial pseudonym starts with ts_.");
          return;
        }
        setInvalid(undefined);
        setBusy(true);
        setError(undefined);
        api<TrialSubject>(`/api/v1/trials/${props.trial}/subjects/by-pseudonym/${encodeURIComponent(ts)}`)
          .then((s) => navigate(`/subjects/${s.id}`))
          .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))))
          .finally(() => setBusy(false));
      }}
    >
      <TextField
        label="Trial pseudonym"
        hint="ts_…, as the site's enrolment log shows it"
        value={pseudonym}
        onValue={setPseudonym}
        autocomplete="off"
        {...(invalid ? { error: invalid } : {})}
      />
      <Button type="submit" busy={busy}>
        Find subject
      </Button>
      <ProblemAlert error={error} title="No such subject" />
    </Form>
  );
}
