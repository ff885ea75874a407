/**
 * Node health: readiness, the log's size and checkpoint, and the consortium — alarms first, then the
 * cosigned checkpoint and each witness, anchoring, the peers mirrored and the logs this node
 * witnesses (ui/consortium.tsx, the same view as the public log explorer's).
 */
import { useApi } from "../../hooks.js";
import { Alert, Facts, Loaded, Page, Section } from "../../ui/index.js";
import {
  AnchoringFacts,
  ConsortiumAlarms,
  CosignedCheckpoint,
  MirrorTable,
  WitnessedLogs,
  WitnessTable,
  type ConsortiumStatus,
} from "../../ui/consortium.js";

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

export function HealthPage() {
  const log = useApi<LogInfo>("/api/v1/log");
  const status = useApi<ConsortiumStatus>("/api/v1/consortium/status");
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
      {status.error?.code !== "ROUTE_NOT_FOUND" && status.data && (
        <Section title="Alarms">
          <ConsortiumAlarms status={status.data} />
        </Section>
      )}
      <Section title="Log">
        <Loaded state={log}>
          {(l) => (
            <Facts
              items={[
                ["Origin", <code>{l.origin}</code>],
                ["Entries", l.size.toLocaleString()],
                ["Root", <code>{l.root}</code>],
                ["Verifier key", <code class="wrap">{l.verifierKey}</code>],
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
              <Section title="Cosigned checkpoint">
                <CosignedCheckpoint status={s} />
                <WitnessTable status={s} />
              </Section>
              <Section title="Anchoring">
                <AnchoringFacts status={s} />
              </Section>
              <Section title="Peers">
                <MirrorTable status={s} />
                <WitnessedLogs status={s} />
              </Section>
            </>
          )}
        </Loaded>
      )}
    </Page>
  );
}
