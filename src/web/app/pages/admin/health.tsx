/** Node health: readiness, the log's size and checkpoint, and the consortium (witnesses, mirrors, anchoring, alarms). */
import { useApi } from "../../hooks.js";
import { Alert, Badge, DataTable, Facts, Loaded, Page, Section } from "../../ui/index.js";

interface Ready {
  readonly status: string;
  readonly size?: number;
  readonly code?: string;
  readonly cause?: string;
  readonly reason?: string;
}
interface LogInfo {
  readonly origin: string;
  readonly size: number;
  readonly root: string;
  readonly verifierKey: string;
}
interface Status {
  readonly logSize: number;
  readonly cosigning: {
    readonly quorum: number;
    readonly witnesses: readonly { name?: string; vkey?: string; [k: string]: unknown }[];
  };
  readonly mirrors: readonly { origin?: string; [k: string]: unknown }[];
  readonly alarms: {
    readonly equivocations: number;
    readonly unproven: number;
    readonly evidence: readonly unknown[];
  };
  readonly anchoring: { readonly configured: boolean; readonly [k: string]: unknown };
}

export function HealthPage() {
  const log = useApi<LogInfo>("/api/v1/log");
  const status = useApi<Status>("/api/v1/consortium/status");
  // /readyz answers 503 with a body when storage refuses writes: read it either way.
  const ready = useApi<Ready>("/readyz");
  return (
    <Page
      title="Node health"
      lead="Whether this node takes writes, what its log holds, and how its consortium sees it."
    >
      <Section title="Readiness">
        {ready.error ? (
          <Alert tone="danger" title="Not ready" testId="readiness">
            {ready.error.detail} <code>{ready.error.code}</code>
          </Alert>
        ) : (
          <Loaded state={ready}>
            {(r) => (
              <Alert
                tone={r.status === "ready" ? "success" : "danger"}
                title={r.status === "ready" ? "Ready" : r.status}
                testId="readiness"
              >
                {r.status === "ready"
                  ? "The log has a checkpoint and its disk takes writes."
                  : `${r.code ?? ""} ${r.reason ?? ""}`}
              </Alert>
            )}
          </Loaded>
        )}
      </Section>
      <Section title="Log">
        <Loaded state={log}>
          {(l) => (
            <Facts
              items={[
                ["Origin", <code>{l.origin}</code>],
                ["Entries", l.size.toLocaleString()],
                ["Root", <code>{l.root}</code>],
                ["Verifier key", <code>{l.verifierKey}</code>],
              ]}
            />
          )}
        </Loaded>
      </Section>
      {status.error?.code === "ROUTE_NOT_FOUND" ? (
        <Section title="Consortium">
          <Alert tone="warning" testId="consortium">
            This node runs alone: no consortium is configured, so no witness cosigns its checkpoints, no peer
            mirrors it and nothing anchors it (docs/consortium.md, serve --consortium).
          </Alert>
        </Section>
      ) : (
        <Loaded state={status}>
          {(s) => (
            <>
              <Section title="Alarms">
                {s.alarms.equivocations + s.alarms.unproven === 0 ? (
                  <Alert tone="success" testId="alarms">
                    No alarms: no equivocation and no unproven checkpoint seen.
                  </Alert>
                ) : (
                  <Alert tone="danger" title="Alarms" testId="alarms">
                    {s.alarms.equivocations} equivocation(s), {s.alarms.unproven} unproven checkpoint(s). See
                    the evidence register (
                    <a href="/api/v1/consortium/evidence">/api/v1/consortium/evidence</a>
                    ).
                  </Alert>
                )}
              </Section>
              <Section title="Witnesses">
                <p>
                  Quorum: <strong>{s.cosigning.quorum}</strong>{" "}
                  {s.cosigning.witnesses.length === 0 && (
                    <Badge tone="warning">no witnesses configured</Badge>
                  )}
                </p>
                <DataTable
                  caption="Witnesses"
                  columns={[
                    { header: "Witness", render: (w) => <code>{w.name ?? w.vkey ?? ""}</code> },
                    { header: "State", render: (w) => <code>{JSON.stringify(w)}</code> },
                  ]}
                  rows={s.cosigning.witnesses}
                  rowKey={(w) => w.name ?? w.vkey ?? ""}
                  empty="No witnesses cosign this log yet."
                />
              </Section>
              <Section title="Mirrors and anchoring">
                <Facts
                  items={[
                    [
                      "Mirrored logs",
                      s.mirrors.length === 0 ? "none" : s.mirrors.map((m) => m.origin ?? "?").join(", "),
                    ],
                    [
                      "Anchoring",
                      s.anchoring.configured ? (
                        <Badge tone="success">configured</Badge>
                      ) : (
                        <Badge>not configured</Badge>
                      ),
                    ],
                  ]}
                />
              </Section>
            </>
          )}
        </Loaded>
      )}
    </Page>
  );
}
