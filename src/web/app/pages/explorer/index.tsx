/**
 * The log explorer (public, no sign-in; docs/web.md §Log explorer): a block explorer for this log.
 * The overview shows the latest checkpoint (size, root, the signed note), its witnesses and anchoring
 * (GET /api/v1/consortium/status, where a consortium is configured), the size over time (GET
 * /api/v1/log/checkpoints?sample=), the recent entries by type with counts (GET /api/v1/log/recent)
 * and the consortium's peers and alarms; an entry's page (/explorer/entries/:index) shows its public
 * view and checks its RFC 9162 inclusion proof in this browser with the core's own code
 * (src/core/merkle/verify.ts) against the checkpoint, whose signature it checks with the key the
 * node publishes. Nothing here names a person: the public routes carry index, leaf hash, type and the
 * minute only (docs/privacy.md §The public, through the log explorer).
 */
import { useMemo, useState } from "preact/hooks";
import { Link, Route, Switch, useParams } from "wouter-preact";
import { fromBase64, fromHex } from "../../../../core/bytes.js";
import { parseCheckpointText } from "../../../../core/checkpoint.js";
import { nobleCrypto } from "../../../../core/crypto-noble.js";
import { verifyInclusion } from "../../../../core/merkle/verify.js";
import { ed25519Verifier, parseSignedNote, parseVerifierKey, verifyNote } from "../../../../core/note.js";
import { ApiError } from "../../api.js";
import { useApi, type Loaded as LoadedState } from "../../hooks.js";
import {
  Alert,
  Badge,
  DataTable,
  Facts,
  Id,
  Loaded,
  Loading,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  Time,
  Toolbar,
  Button,
} from "../../ui/index.js";

interface LogInfo {
  readonly origin: string;
  readonly size: number;
  readonly root: string;
  readonly verifierKey: string;
  readonly checkpoint?: string;
}
interface CheckpointItem {
  readonly size: number;
  readonly root: string;
  readonly time?: string;
  readonly note: string;
  readonly cosigned?: { witnesses: string[]; count: number; final: boolean; publishedAt: string };
  readonly anchor?: { txHash: string; blockNumber: number; anchoredAt: string };
}
interface PublicEntry {
  readonly index: number;
  readonly leafHash: string;
  readonly type: string;
  readonly time?: string;
}
interface Recent {
  readonly items: PublicEntry[];
  readonly next?: string;
  readonly size: number;
  readonly counts: Record<string, number>;
}
interface ConsortiumStatus {
  readonly cosigning: {
    quorum: number;
    witnesses: {
      name: string;
      url: string;
      cosignedSize?: number;
      lastSuccessAt?: number;
      failures: number;
    }[];
    published?: { size: number; final: boolean; witnesses: string[]; publishedAt: number };
  };
  readonly mirrors: {
    origin: string;
    state: string;
    mirroredSize: number;
    peerSize?: number;
    lastSyncAt?: number;
  }[];
  readonly alarms: {
    equivocations: number;
    unproven: number;
    evidence: { id: number; origin: string; kind: string; summary: string; detectedAt: number }[];
  };
  readonly anchoring: {
    configured: boolean;
    latest?: { size: number; txHash: string; blockNumber: number; anchoredAt: number };
  };
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

export default function ExplorerArea() {
  return (
    <Switch>
      <Route path="/">
        <Overview />
      </Route>
      <Route path="/entries/:index">
        <EntryPage />
      </Route>
    </Switch>
  );
}

function Overview() {
  const log = useApi<LogInfo>("/api/v1/log");
  return (
    <Page
      title="Log explorer"
      lead="This log's checkpoints, witnesses and entries, as anyone can check them. Entries are listed by type and minute only: no person, record or content."
    >
      <Loaded state={log}>{(l) => <LatestCheckpoint log={l} />}</Loaded>
      <Consortium />
      <SizeOverTime />
      <RecentEntries />
    </Page>
  );
}

function LatestCheckpoint(props: { log: LogInfo }) {
  const { log } = props;
  return (
    <Section title="Latest checkpoint">
      <Facts
        items={[
          ["Log", <code>{log.origin}</code>],
          ["Size", <span data-testid="log-size">{log.size.toLocaleString()}</span>],
          ["Root", <Id value={log.root} full />],
          ["Verifier key", <code class="wrap">{log.verifierKey}</code>],
        ]}
      />
      {log.checkpoint && (
        <>
          <h3 class="x-sub">Signed note (C2SP tlog-checkpoint)</h3>
          <pre class="x-note" data-testid="checkpoint-note" tabIndex={0} aria-label="The signed checkpoint">
            {log.checkpoint}
          </pre>
        </>
      )}
    </Section>
  );
}

/** Witnesses, anchoring, peers and alarms — or that none are configured (the route is absent then). */
function Consortium() {
  const status = useApi<ConsortiumStatus>("/api/v1/consortium/status");
  if (status.error?.status === 404)
    return (
      <Section title="Witnesses and anchoring">
        <p data-testid="no-witnesses">
          No witnesses configured: this node runs without a consortium, so its checkpoints carry its own
          signature only, and no peer or chain anchors them.
        </p>
      </Section>
    );
  if (status.error) return <ProblemAlert error={status.error} />;
  if (!status.data) return <Loading />;
  const s = status.data;
  const pub = s.cosigning.published;
  return (
    <>
      <Section title="Witnesses and anchoring">
        <Facts
          items={[
            ["Quorum", String(s.cosigning.quorum)],
            [
              "Last published",
              pub
                ? `size ${pub.size}, cosigned by ${pub.witnesses.join(", ") || "nobody"}${pub.final ? " (final)" : ""}`
                : "—",
            ],
            [
              "Anchoring",
              !s.anchoring.configured
                ? "not configured"
                : s.anchoring.latest
                  ? `size ${s.anchoring.latest.size} in block ${s.anchoring.latest.blockNumber}`
                  : "configured, nothing anchored yet",
            ],
          ]}
        />
        <DataTable
          caption="Witnesses"
          rowKey={(w) => w.name}
          rows={s.cosigning.witnesses}
          empty="No witnesses configured."
          columns={[
            { header: "Witness", render: (w) => w.name },
            { header: "Cosigned size", render: (w) => w.cosignedSize ?? "—" },
            { header: "Last success", render: (w) => <Time iso={iso(w.lastSuccessAt)} /> },
            { header: "Failures", render: (w) => w.failures },
          ]}
        />
      </Section>
      <Section title="Peers and alarms">
        <DataTable
          caption="Peers this node mirrors"
          rowKey={(m) => m.origin}
          rows={s.mirrors}
          empty="No peers mirrored."
          columns={[
            { header: "Peer", render: (m) => <code>{m.origin}</code> },
            { header: "State", render: (m) => m.state },
            { header: "Mirrored", render: (m) => m.mirroredSize },
            { header: "Peer size", render: (m) => m.peerSize ?? "—" },
            { header: "Last sync", render: (m) => <Time iso={iso(m.lastSyncAt)} /> },
          ]}
        />
        {s.alarms.equivocations + s.alarms.unproven === 0 ? (
          <p>No alarms: no equivocation seen.</p>
        ) : (
          <Alert
            tone="danger"
            title={`${s.alarms.equivocations} equivocations, ${s.alarms.unproven} unproven`}
          >
            <ul>
              {s.alarms.evidence.map((e) => (
                <li key={e.id}>
                  {e.origin}: {e.summary} (<Time iso={iso(e.detectedAt)} />)
                </li>
              ))}
            </ul>
          </Alert>
        )}
      </Section>
    </>
  );
}

function SizeOverTime() {
  const cps = useApi<{ items: CheckpointItem[]; size: number; anchoredSize?: number }>(
    "/api/v1/log/checkpoints",
    { sample: 24 },
  );
  return (
    <Section title="Size over time">
      <Loaded state={cps}>
        {(d) => {
          const max = Math.max(1, ...d.items.map((c) => c.size));
          return (
            <ol class="x-bars" aria-label="Checkpoints, oldest first: size and time">
              {d.items.map((c) => (
                <li key={c.size}>
                  <span class="x-bar-label">
                    <Time iso={c.time} />
                  </span>
                  <span class="x-bar" style={{ width: `${Math.max(2, (100 * c.size) / max)}%` }} />
                  <span class="x-bar-value">
                    {c.size.toLocaleString()}
                    {c.cosigned ? ` · ${c.cosigned.count} cosignatures` : ""}
                    {c.anchor ? " · anchored" : ""}
                  </span>
                </li>
              ))}
            </ol>
          );
        }}
      </Loaded>
    </Section>
  );
}

function RecentEntries() {
  const [type, setType] = useState("");
  const [before, setBefore] = useState<string>();
  const recent = useApi<Recent>("/api/v1/log/recent", { type, before });
  const [counts, setCounts] = useState<Record<string, number>>({});
  if (recent.data && Object.keys(counts).length === 0 && Object.keys(recent.data.counts).length > 0)
    setCounts(recent.data.counts);
  const types = Object.keys(counts).sort();
  return (
    <Section title="Recent entries">
      <Toolbar label="Filter entries">
        <SelectField
          label="Type"
          value={type}
          onValue={(v) => {
            setType(v);
            setBefore(undefined);
          }}
          options={[
            { value: "", label: "All types" },
            ...types.map((t) => ({ value: t, label: `${t} (${counts[t]!.toLocaleString()})` })),
          ]}
        />
      </Toolbar>
      <Loaded state={recent}>
        {(r) => (
          <>
            <DataTable
              caption={type ? `Recent ${type} entries, newest first` : "Recent entries, newest first"}
              testId="recent"
              rowKey={(e) => String(e.index)}
              rows={r.items}
              empty="No entries of this type."
              columns={[
                {
                  header: "Index",
                  render: (e) => <Link href={`/entries/${e.index}`}>{e.index}</Link>,
                },
                { header: "Type", render: (e) => <Badge>{e.type}</Badge> },
                { header: "Minute", render: (e) => e.time ?? "—" },
                { header: "Leaf hash", render: (e) => <Id value={e.leafHash} /> },
              ]}
            />
            {r.next !== undefined && <Button onClick={() => setBefore(r.next)}>Older entries</Button>}
          </>
        )}
      </Loaded>
    </Section>
  );
}

interface ProofView extends PublicEntry {
  readonly inclusion: { size: number; proof: string[] };
  readonly checkpoint: string;
}

/** The proof's check, in this browser: the signed note by the node's key, then RFC 9162 §2.1.3.2. */
function checkProof(p: ProofView, verifierKey: string): { ok: boolean; detail: string } {
  try {
    const note = parseSignedNote(p.checkpoint);
    const key = parseVerifierKey(nobleCrypto, verifierKey);
    verifyNote(note, [ed25519Verifier(nobleCrypto, key.name, key.publicKey)]);
    const cp = parseCheckpointText(note.text);
    if (cp.size !== p.inclusion.size)
      return {
        ok: false,
        detail: `the proof is for size ${p.inclusion.size}, the checkpoint is of size ${cp.size}`,
      };
    verifyInclusion(
      nobleCrypto,
      p.index,
      cp.size,
      fromHex(p.leafHash),
      p.inclusion.proof.map((h) => fromBase64(h)),
      cp.root,
    );
    return {
      ok: true,
      detail: `leaf ${p.index} and ${p.inclusion.proof.length} proof hashes lead to the root of the checkpoint of size ${cp.size}, signed by the key this node publishes`,
    };
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String((e as { code: unknown }).code) : "PROOF_INVALID";
    return { ok: false, detail: `${code}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function EntryPage() {
  const { index } = useParams<{ index: string }>();
  const valid = /^[0-9]{1,16}$/.test(index);
  const proof = useApi<ProofView>(valid ? `/api/v1/log/entries/${index}/proof` : null);
  const log = useApi<LogInfo>("/api/v1/log");
  return (
    <Page title={`Log entry ${valid ? index : ""}`.trim()}>
      <p>
        <Link href="/">← Log explorer</Link>
      </p>
      {!valid && (
        <ProblemAlert error={new ApiError(400, "INPUT_INVALID", "an entry is named by its index")} />
      )}
      {valid && <EntryView proof={proof} log={log} />}
    </Page>
  );
}

function EntryView(props: { proof: LoadedState<ProofView>; log: LoadedState<LogInfo> }) {
  const p = props.proof.data;
  const key = props.log.data?.verifierKey;
  const check = useMemo(() => (p && key ? checkProof(p, key) : undefined), [p, key]);
  return (
    <Loaded state={props.proof}>
      {(e) => (
        <>
          <Section title="Entry">
            <Facts
              items={[
                ["Index", String(e.index)],
                ["Type", <Badge>{e.type}</Badge>],
                ["Minute", e.time ?? "—"],
                ["Leaf hash", <Id value={e.leafHash} full />],
              ]}
            />
            <p class="x-hint">
              Who signed it and what it says are not public: peers, administrators and auditors read entries
              (docs/privacy.md).
            </p>
          </Section>
          <Section title="Inclusion proof (RFC 9162)">
            {check === undefined ? (
              <Loading label="Checking the proof…" />
            ) : check.ok ? (
              <Alert tone="success" title="Proof checks out" testId="proof-result">
                {check.detail}. Checked in this browser.
              </Alert>
            ) : (
              <Alert tone="danger" title="The proof does not check out" testId="proof-result">
                {check.detail}
              </Alert>
            )}
            <ol class="x-proof" aria-label="Proof hashes, bottom up">
              {e.inclusion.proof.map((h, i) => (
                <li key={i}>
                  <Id value={h} full />
                </li>
              ))}
            </ol>
            <h3 class="x-sub">Against the checkpoint</h3>
            <pre class="x-note" tabIndex={0} aria-label="The checkpoint the proof is against">
              {e.checkpoint}
            </pre>
          </Section>
        </>
      )}
    </Loaded>
  );
}
