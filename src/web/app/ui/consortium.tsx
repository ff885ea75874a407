/**
 * A node's consortium side as the public log explorer and the admin's health page both show it
 * (docs/web.md "Log explorer", "Admin"; docs/consortium.md): the newest cosigned checkpoint with
 * its witnesses, each witness's state, anchoring (block and transaction), the peers mirrored, the
 * logs this node witnesses, and the alarms — each piece of equivocation evidence with its detail and
 * its file, which anyone can check offline with `radledger verify FILE --log-key KEY`. The data is
 * GET /api/v1/consortium/status (public: no PHI), whose shape is src/app/consortium/status.ts.
 */
import { Alert, Badge, DataTable, Facts, Id, Time, type Tone } from "./index.js";

interface Failure {
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

/** GET /api/v1/consortium/status (src/app/consortium/status.ts ConsortiumStatus; times in ms). */
export interface ConsortiumStatus {
  readonly origin: string;
  /** Each peer's log verifier key as this node is configured with it (the evidence files' key). */
  readonly peers?: readonly { origin: string; vkey: string }[];
  readonly logSize: number;
  readonly witness?: {
    readonly vkey: string;
    readonly logs: readonly { origin: string; size: number; updatedAt: number }[];
  };
  readonly cosigning: {
    readonly quorum: number;
    readonly witnesses: readonly {
      name: string;
      url: string;
      cosignedSize?: number;
      lastSuccessAt?: number;
      failures: number;
      retryAt?: number;
      lastError?: Failure;
    }[];
    readonly published?: { size: number; final: boolean; witnesses: string[]; publishedAt: number };
    readonly finalSize?: number;
  };
  readonly mirrors: readonly {
    origin: string;
    url: string;
    state: string;
    mirroredSize: number;
    checkpointSize: number;
    peerSize?: number;
    lastSyncAt?: number;
    lastError?: Failure;
  }[];
  readonly alarms: {
    readonly equivocations: number;
    readonly unproven: number;
    readonly evidence: readonly {
      id: number;
      origin: string;
      kind: string;
      source: string;
      summary: string;
      detectedAt: number;
    }[];
  };
  readonly anchoring: {
    readonly configured: boolean;
    readonly latest?: {
      size: number;
      root: string;
      txHash: string;
      gasUsed: number;
      blockNumber: number;
      anchoredAt: number;
    };
    readonly lastError?: Failure;
  };
}

/** Milliseconds since the epoch as RFC 3339 (what <Time> takes). */
export const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** Evidence kinds in words (docs/consortium.md §Evidence). */
export const EVIDENCE_KINDS: Readonly<Record<string, string>> = {
  "two-roots-for-one-size": "Two roots for one size",
  "inconsistent-history": "Inconsistent history",
  unproven: "Unproven observation",
};
const EVIDENCE_MEANING: Readonly<Record<string, string>> = {
  "two-roots-for-one-size": "the log signed two different checkpoints of the same size",
  "inconsistent-history": "the log signed a checkpoint that does not extend one it signed before",
  unproven: "a consistency proof failed, but without two signed checkpoints that prove a fork",
};
const SOURCES: Readonly<Record<string, string>> = {
  witness: "this node's witness",
  mirror: "this node's mirror",
  anchor: "the anchoring contract",
};

/** Mirror states (src/domain/consortium/mirror.ts) with the tone of what they mean. */
const MIRROR_TONES: Readonly<Record<string, Tone>> = {
  ok: "success",
  stored: "success",
  idle: "neutral",
  waiting: "info",
  error: "warning",
  equivocated: "danger",
};

/**
 * A failure kept in the status: a warning while it lasts (failures > 0), otherwise a neutral note
 * that it happened before the last success (the status keeps the last error after a recovery).
 */
function FailureBadge(props: { failure: Failure | undefined; current: boolean }) {
  if (!props.failure) return <span>—</span>;
  return (
    <span>
      <Badge tone={props.current ? "warning" : "neutral"} title={props.failure.message}>
        {props.current ? props.failure.code : `earlier: ${props.failure.code}`}
      </Badge>{" "}
      <Time iso={iso(props.failure.at)} />
    </span>
  );
}

/**
 * The alarms: proven equivocations and unproven observations, each with what it means, who saw it,
 * when, and its evidence file — a danger alert, never folded away. "No alarms" otherwise.
 */
export function ConsortiumAlarms(props: { status: ConsortiumStatus }) {
  const { alarms } = props.status;
  if (alarms.equivocations + alarms.unproven === 0)
    return (
      <div data-testid="alarms">
        <Alert tone="success">No alarms: no equivocation and no unproven checkpoint seen.</Alert>
      </div>
    );
  const origins = [...new Set(alarms.evidence.map((e) => e.origin))];
  const keys = new Map((props.status.peers ?? []).map((p) => [p.origin, p.vkey]));
  return (
    <div data-testid="alarms">
      <Alert
        tone={alarms.equivocations > 0 ? "danger" : "warning"}
        title={`Alarm: ${alarms.equivocations} proven equivocation${alarms.equivocations === 1 ? "" : "s"}, ${alarms.unproven} unproven observation${alarms.unproven === 1 ? "" : "s"} (${origins.join(", ")})`}
      >
        <p>
          A log that equivocates shows different histories to different parties: do not trust its checkpoints
          until the consortium has dealt with it. Each file below proves it to anyone, offline:{" "}
          <code>radledger verify FILE --log-key KEY</code> with that log's key.
        </p>
        <ul class="consortium-evidence">
          {alarms.evidence.map((e) => (
            <li key={e.id}>
              <strong>{EVIDENCE_KINDS[e.kind] ?? e.kind}</strong> by <code class="wrap">{e.origin}</code>:{" "}
              {EVIDENCE_MEANING[e.kind] ?? e.kind}. Seen by {SOURCES[e.source] ?? e.source},{" "}
              <Time iso={iso(e.detectedAt)} />. <q>{e.summary}</q>{" "}
              <a href={`/api/v1/consortium/evidence/${e.id}`} download={`evidence-${e.id}.txt`}>
                Evidence file {e.id}
              </a>
              {keys.has(e.origin) && (
                <>
                  {" "}
                  — check it with{" "}
                  <code class="wrap">
                    radledger verify evidence-{e.id}.txt --log-key {keys.get(e.origin)}
                  </code>{" "}
                  (the key this node is configured with for that log; a key got from its institution is a
                  stronger check)
                </>
              )}
            </li>
          ))}
        </ul>
      </Alert>
    </div>
  );
}

/** The newest published checkpoint: its size, the witnesses that cosigned it, final or not, when. */
export function CosignedCheckpoint(props: { status: ConsortiumStatus; note?: string | undefined }) {
  const { cosigning } = props.status;
  const pub = cosigning.published;
  return (
    <div data-testid="cosigned">
      {pub ? (
        <Facts
          items={[
            ["Size", <span>{pub.size.toLocaleString()}</span>],
            [
              "Cosigned by",
              pub.witnesses.length === 0 ? (
                <Badge tone="warning">no witness yet</Badge>
              ) : (
                <span class="consortium-names">
                  {pub.witnesses.map((w) => (
                    <Badge key={w} tone="info">
                      {w}
                    </Badge>
                  ))}
                </span>
              ),
            ],
            [
              "Quorum",
              pub.final ? (
                <Badge tone="success">
                  final: {pub.witnesses.length} of {cosigning.quorum} needed
                </Badge>
              ) : (
                <Badge tone="warning">
                  not final: {pub.witnesses.length} of {cosigning.quorum} needed
                </Badge>
              ),
            ],
            ["Published", <Time iso={iso(pub.publishedAt)} />],
            ...(cosigning.finalSize !== undefined && cosigning.finalSize !== pub.size
              ? [["Newest final size", cosigning.finalSize.toLocaleString()] as const]
              : []),
          ]}
        />
      ) : (
        <p>No checkpoint published with cosignatures yet (quorum {cosigning.quorum}).</p>
      )}
      {props.note !== undefined && (
        <pre
          class="consortium-note"
          data-testid="cosigned-note"
          tabIndex={0}
          aria-label="The checkpoint as served at /checkpoint, with the witnesses' cosignature lines"
        >
          {props.note.trimEnd()}
        </pre>
      )}
    </div>
  );
}

/** Each witness this node asks for cosignatures: the size it last cosigned, when, failures. */
export function WitnessTable(props: { status: ConsortiumStatus }) {
  return (
    <>
      <h3 class="consortium-sub">Witnesses (quorum {props.status.cosigning.quorum})</h3>
      <DataTable
        caption="Witnesses"
        rowKey={(w) => w.name}
        rows={props.status.cosigning.witnesses}
        empty="No witnesses configured."
        columns={[
          { header: "Witness", render: (w) => <strong>{w.name}</strong> },
          { header: "Cosigned size", render: (w) => w.cosignedSize?.toLocaleString() ?? "—" },
          { header: "Last cosigned", render: (w) => <Time iso={iso(w.lastSuccessAt)} /> },
          {
            header: "Failures",
            render: (w) =>
              w.failures === 0 ? (
                "0"
              ) : (
                <span>
                  {w.failures}
                  {w.retryAt !== undefined && (
                    <>
                      {" "}
                      (retry <Time iso={iso(w.retryAt)} />)
                    </>
                  )}
                </span>
              ),
          },
          {
            header: "Last error",
            render: (w) => <FailureBadge failure={w.lastError} current={w.failures > 0} />,
          },
        ]}
      />
    </>
  );
}

/** Anchoring on the consortium chain: the newest anchored checkpoint's block and transaction. */
export function AnchoringFacts(props: { status: ConsortiumStatus }) {
  const { anchoring } = props.status;
  const a = anchoring.latest;
  return (
    <div data-testid="anchoring">
      {!anchoring.configured ? (
        <p>Anchoring is not configured: no chain records this log's checkpoints.</p>
      ) : !a ? (
        <p>Anchoring is configured; nothing is anchored yet.</p>
      ) : (
        <Facts
          items={[
            ["Anchored size", a.size.toLocaleString()],
            ["Block", String(a.blockNumber)],
            ["Transaction", <Id value={a.txHash} full />],
            ["Anchored", <Time iso={iso(a.anchoredAt)} />],
            ["Root", <Id value={a.root} full />],
          ]}
        />
      )}
      {anchoring.lastError && (
        <Alert tone="warning" title="The last anchoring attempt failed">
          {anchoring.lastError.message} <code>{anchoring.lastError.code}</code> (
          <Time iso={iso(anchoring.lastError.at)} />)
        </Alert>
      )}
    </div>
  );
}

/** The peers' logs this node mirrors: state (equivocated is danger), sizes, last sync and error. */
export function MirrorTable(props: { status: ConsortiumStatus }) {
  return (
    <>
      <h3 class="consortium-sub">Peers this node mirrors</h3>
      <DataTable
        caption="Peers this node mirrors"
        rowKey={(m) => m.origin}
        rows={props.status.mirrors}
        empty="No peers mirrored."
        columns={[
          { header: "Peer", render: (m) => <code>{m.origin}</code> },
          {
            header: "State",
            render: (m) => <Badge tone={MIRROR_TONES[m.state] ?? "neutral"}>{m.state}</Badge>,
          },
          { header: "Mirrored", render: (m) => m.mirroredSize.toLocaleString() },
          { header: "Peer size", render: (m) => m.peerSize?.toLocaleString() ?? "—" },
          { header: "Last sync", render: (m) => <Time iso={iso(m.lastSyncAt)} /> },
          {
            header: "Last error",
            render: (m) => <FailureBadge failure={m.lastError} current={m.state !== "ok"} />,
          },
        ]}
      />
    </>
  );
}

/** The peers' logs this node's witness cosigns: the size it last cosigned for each. */
export function WitnessedLogs(props: { status: ConsortiumStatus }) {
  const w = props.status.witness;
  return (
    <>
      <h3 class="consortium-sub">Logs this node witnesses</h3>
      {!w ? (
        <p>This node has no witness key: it cosigns no other log.</p>
      ) : (
        <DataTable
          caption="Logs this node witnesses"
          rowKey={(l) => l.origin}
          rows={w.logs}
          empty="This node's witness has cosigned no log yet."
          columns={[
            { header: "Log", render: (l) => <code>{l.origin}</code> },
            { header: "Cosigned size", render: (l) => l.size.toLocaleString() },
            { header: "Updated", render: (l) => <Time iso={iso(l.updatedAt)} /> },
          ]}
        />
      )}
    </>
  );
}
