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
import { useEffect, useMemo, useState } from "preact/hooks";
import { Link, Route, Switch, useParams } from "wouter-preact";
import { fromBase64, fromHex } from "../../../../core/bytes.js";
import { parseCheckpointText } from "../../../../core/checkpoint.js";
import { nobleCrypto } from "../../../../core/crypto-noble.js";
import { verifyInclusion } from "../../../../core/merkle/verify.js";
import { ed25519Verifier, parseSignedNote, parseVerifierKey, verifyNote } from "../../../../core/note.js";
import { ApiError, request } from "../../api.js";
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
import {
  AnchoringFacts,
  ConsortiumAlarms,
  CosignedCheckpoint,
  MirrorTable,
  WitnessedLogs,
  WitnessTable,
  type ConsortiumStatus,
} from "../../ui/consortium.js";

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
  const status = useApi<ConsortiumStatus>("/api/v1/consortium/status");
  const s = status.data;
  // An alarm goes first, before anything a reader might trust: it says this log's peers saw a fork.
  const alarmed = s !== undefined && s.alarms.equivocations + s.alarms.unproven > 0;
  return (
    <Page
      title="Log explorer"
      lead="This log's checkpoints, witnesses and entries, as anyone can check them. Entries are listed by type and minute only: no person, record or content."
    >
      {alarmed && (
        <Section title="Alarms">
          <ConsortiumAlarms status={s} />
        </Section>
      )}
      <Loaded state={log}>{(l) => <LatestCheckpoint log={l} />}</Loaded>
      <Consortium status={status} alarmed={alarmed} />
      <Checkpoints />
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

/** The checkpoint as /checkpoint serves it: with a consortium, the published one and its cosignature lines. */
function useServedCheckpoint(enabled: boolean): string | undefined {
  const [note, setNote] = useState<string>();
  useEffect(() => {
    if (!enabled) return;
    const ctl = new AbortController();
    request("/checkpoint", { signal: ctl.signal })
      .then((res) => res.text())
      .then(setNote)
      // Not shown when it cannot be read: the status still says who cosigned what.
      .catch(() => undefined);
    return () => ctl.abort();
  }, [enabled]);
  return note;
}

/** Witnesses, anchoring, peers and alarms — or that none are configured (the route is absent then). */
function Consortium(props: { status: LoadedState<ConsortiumStatus>; alarmed: boolean }) {
  const { status } = props;
  const served = useServedCheckpoint(status.data !== undefined);
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
  return (
    <>
      <Section title="Cosigned checkpoint">
        <p class="x-hint">
          The newest checkpoint this node published with its witnesses&apos; cosignatures (C2SP
          tlog-cosignature): each witness checked that it extends every checkpoint of this log it saw before.
        </p>
        <CosignedCheckpoint status={s} note={served} />
        <WitnessTable status={s} />
      </Section>
      <Section title="Anchoring">
        <AnchoringFacts status={s} />
      </Section>
      <Section title="Peers">
        <MirrorTable status={s} />
        {!props.alarmed && <ConsortiumAlarms status={s} />}
        <WitnessedLogs status={s} />
      </Section>
    </>
  );
}

/** The checkpoint history, newest first: per checkpoint, who cosigned it and where it is anchored. */
function Checkpoints() {
  const [before, setBefore] = useState<string>();
  const cps = useApi<{ items: CheckpointItem[]; next?: string; anchoredSize?: number }>(
    "/api/v1/log/checkpoints",
    { limit: 10, before },
  );
  return (
    <Section title="Checkpoints">
      <Loaded state={cps}>
        {(d) => (
          <>
            <DataTable
              caption="Checkpoints, newest first"
              testId="checkpoints"
              rowKey={(c) => String(c.size)}
              rows={d.items}
              empty="No checkpoint yet."
              columns={[
                { header: "Size", render: (c) => c.size.toLocaleString() },
                {
                  header: "Cosigned by",
                  render: (c) =>
                    c.cosigned ? (
                      <span class="consortium-names">
                        {c.cosigned.witnesses.length === 0 ? (
                          <span>no witness</span>
                        ) : (
                          c.cosigned.witnesses.map((w) => (
                            <Badge key={w} tone="info">
                              {w}
                            </Badge>
                          ))
                        )}
                        <Badge tone={c.cosigned.final ? "success" : "warning"}>
                          {c.cosigned.final ? "final" : "not final"}
                        </Badge>
                        <Time iso={c.cosigned.publishedAt} />
                      </span>
                    ) : (
                      "not published"
                    ),
                },
                {
                  header: "Anchored",
                  render: (c) =>
                    c.anchor ? (
                      <span>
                        block {c.anchor.blockNumber}, tx <Id value={c.anchor.txHash} />,{" "}
                        <Time iso={c.anchor.anchoredAt} />
                      </span>
                    ) : d.anchoredSize !== undefined && c.size <= d.anchoredSize ? (
                      // RFC 9162 §2.1.4: the anchored checkpoint extends this one, proven on chain.
                      `through the anchor of size ${d.anchoredSize.toLocaleString()}`
                    ) : (
                      "—"
                    ),
                },
                { header: "Newest entry", render: (c) => <Time iso={c.time} /> },
                { header: "Root", render: (c) => <Id value={c.root} /> },
              ]}
            />
            <Toolbar label="Checkpoint pages">
              {before !== undefined && (
                <Button onClick={() => setBefore(undefined)}>Newest checkpoints</Button>
              )}
              {d.next !== undefined && <Button onClick={() => setBefore(d.next)}>Older checkpoints</Button>}
            </Toolbar>
          </>
        )}
      </Loaded>
    </Section>
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
                    {c.cosigned && c.cosigned.count > 0
                      ? ` · ${c.cosigned.count} cosignatures${c.cosigned.final ? " (final)" : ""}`
                      : ""}
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
