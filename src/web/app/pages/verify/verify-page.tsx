/**
 * Verify a bundle (public, no sign-in): the person gives the log key they trust (pasted, from a file,
 * or a consortium policy), drops a bundle, and the verdict is computed in a Web Worker by the pure
 * core (src/web/verifier/worker.ts, the CLI's verifier): VERIFIED only against a key the person
 * trusts, UNTRUSTED when the bundle checks out only against the key it carries itself, FAILED.
 * Nothing is uploaded: the worker reads the file in this browser. The key may also be the one this
 * node publishes (GET /api/v1/log), named as such: trusting the node whose bundle you verify is weaker
 * than a key you got elsewhere. Below the verdict, what was verified (summary-view.tsx): the worker's
 * summary of the verified bytes — for an UNTRUSTED bundle framed as its claim, for a FAILED one none.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { VerifyRequestMessage, WorkerMessage } from "../../../verifier/worker.js";
import type { BundleSummary } from "../../../verifier/summary.js";
import { api, ApiError } from "../../api.js";
import { Alert, Button, Page, ProblemAlert, Section } from "../../ui/index.js";
import { SummaryView } from "./summary-view.js";

/** The worker's hashed asset path, set by scripts/build-web.mjs. */
declare const __VERIFY_WORKER_URL__: string;

type State = "" | "running" | "verified" | "untrusted" | "failed" | "input-error";

const lines = (text: string): string[] =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

export function VerifyPage() {
  const logKeys = useRef<HTMLTextAreaElement>(null);
  const witnessKeys = useRef<HTMLTextAreaElement>(null);
  const minWitnesses = useRef<HTMLInputElement>(null);
  const policy = useRef<HTMLInputElement>(null);
  const worker = useRef<Worker>();
  const [state, setState] = useState<State>("");
  const [verdict, setVerdict] = useState("");
  const [ms, setMs] = useState<number>();
  const [report, setReport] = useState("");
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const [over, setOver] = useState(false);
  const [summary, setSummary] = useState<BundleSummary>();
  /** The key this node publishes, when the person chose it (and whether it is still the one in the field). */
  const [nodeKey, setNodeKey] = useState<{ key: string; origin: string }>();
  const [keyError, setKeyError] = useState<ApiError>();

  useEffect(() => () => worker.current?.terminate(), []);

  const show = (s: State, text: string): void => {
    setState(s);
    setVerdict(text);
  };

  async function verify(file: File): Promise<void> {
    worker.current?.terminate();
    const w = new Worker(__VERIFY_WORKER_URL__);
    worker.current = w;
    show("running", `Verifying ${file.name} (${file.size.toLocaleString()} bytes) in your browser…`);
    setMs(undefined);
    setReport("");
    setSummary(undefined);
    setProgress({ done: 0, total: 1 });
    w.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === "progress") {
        setProgress({ done: m.done, total: m.total });
        return;
      }
      setProgress(undefined);
      if (m.type === "input-error") {
        show("input-error", `Not verified — ${m.code}: ${m.message}`);
        return;
      }
      setMs(m.ms);
      show(
        m.trust,
        m.trust === "verified"
          ? `${m.verdict} — ${file.name} (${m.ms} ms, ${m.engine})`
          : m.trust === "untrusted"
            ? `${m.verdict} — ${file.name} is consistent only with the log key it carries itself, which anyone can make: paste the institution's log key or load a consortium policy to verify it (${m.ms} ms)`
            : `${m.verdict} — ${file.name} does not verify (${m.ms} ms)`,
      );
      setReport(m.text);
      // The worker sends no summary for a FAILED bundle; the page would not show one anyway.
      setSummary(m.trust === "failed" ? undefined : m.summary);
    };
    w.onerror = (e) => show("failed", `FAILED — the verifier stopped: ${e.message}`);
    const min = Number(minWitnesses.current?.value || "0");
    const policyText = await policy.current?.files?.[0]?.text();
    const message: VerifyRequestMessage = {
      file,
      logKeys: lines(logKeys.current?.value ?? ""),
      witnessKeys: lines(witnessKeys.current?.value ?? ""),
      minWitnesses: Number.isSafeInteger(min) && min >= 0 ? min : 0,
      ...(policyText === undefined ? {} : { policy: policyText }),
    };
    w.postMessage(message);
  }

  const start = (f: File | undefined): void => {
    if (f) verify(f).catch((e: unknown) => show("failed", `FAILED — the verifier stopped: ${String(e)}`));
  };

  /** Puts the key this node publishes (GET /api/v1/log) into the field, named as such. */
  const useNodeKey = (): void => {
    setKeyError(undefined);
    api<{ verifierKey: string }>("/api/v1/log")
      .then((log) => {
        const field = logKeys.current;
        if (!field) return;
        const keys = lines(field.value);
        if (!keys.includes(log.verifierKey)) field.value = [...keys, log.verifierKey].join("\n");
        setNodeKey({ key: log.verifierKey, origin: window.location.origin });
      })
      .catch((e: unknown) => setKeyError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))));
  };

  const addKeyFile = (f: File | undefined): void => {
    if (!f || !logKeys.current) return;
    const field = logKeys.current;
    void f.text().then((text) => {
      field.value = [field.value.trim(), text.trim()].filter((l) => l.length > 0).join("\n");
    });
  };

  return (
    <Page
      title="Verify a bundle"
      lead="Check every signature, the signers' enrolment at signing time, every inclusion proof, the log's checkpoint and witness cosignatures, and every disclosed file. Everything runs in this page: the bundle is not uploaded anywhere."
    >
      <Section title="Trust">
        <div class="field">
          <label for="log-keys">The log's verifier key you trust (from the institution; one per line)</label>
          <textarea
            id="log-keys"
            ref={logKeys}
            rows={2}
            placeholder="radledger.example-hospital.org/log+1a2b3c4d+AQ…"
            onInput={() => {
              if (nodeKey && !lines(logKeys.current?.value ?? "").includes(nodeKey.key))
                setNodeKey(undefined);
            }}
          />
        </div>
        <div class="node-key">
          <Button onClick={useNodeKey}>Use this node's published key</Button>
        </div>
        <ProblemAlert error={keyError} title="Could not read this node's key" />
        {nodeKey && (
          <Alert tone="warning" title="Using the key this node publishes" testId="node-key">
            The field holds the key this node publishes at <code>{nodeKey.origin}</code>. That is weaker than
            a key you got elsewhere — from the institution in writing, its website, or a consortium policy: a
            node that forged a bundle would publish the forger's key too. Use it to check a bundle against{" "}
            <em>this</em> node; to check the node, get its key from somewhere else.
          </Alert>
        )}
        <div class="toolbar">
          <div class="field">
            <label for="log-key-file">or a key file</label>
            <input
              id="log-key-file"
              type="file"
              accept=".txt,.vkey,text/plain"
              onChange={(e) => addKeyFile(e.currentTarget.files?.[0])}
            />
          </div>
          <div class="field">
            <label for="policy">or a consortium policy (C2SP tlog-policy)</label>
            <input id="policy" ref={policy} type="file" accept=".txt,.policy,text/plain" />
          </div>
        </div>
        <p class="hint">
          Without a key you trust, a bundle that passes every check is shown as <strong>UNTRUSTED</strong>: it
          was checked only against the key it carries itself, and anyone can make such a bundle.
        </p>
        <details>
          <summary>Witnesses</summary>
          <div class="field">
            <label for="witness-keys">Witness keys you trust (cosignature/v1, one per line)</label>
            <textarea id="witness-keys" ref={witnessKeys} rows={2} />
          </div>
          <div class="field">
            <label for="min-witnesses">Cosignatures required</label>
            <input id="min-witnesses" ref={minWitnesses} type="number" min="0" value="0" />
          </div>
        </details>
      </Section>
      <Section title="Bundle">
        <div
          id="drop"
          class={`dropzone${over ? " over" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            start(e.dataTransfer?.files[0]);
          }}
        >
          <label for="file">Drop the bundle (.radledger.tar) here, or choose it</label>
          <input
            id="file"
            type="file"
            accept=".tar,application/x-tar"
            onChange={(e) => start(e.currentTarget.files?.[0])}
          />
        </div>
        <div
          id="verdict"
          class={`verdict verdict-${state}`}
          data-state={state || undefined}
          data-ms={ms}
          role="status"
          aria-live="polite"
        >
          {verdict}
        </div>
        {progress && (
          <progress aria-label="Verification progress" max={progress.total} value={progress.done} />
        )}
        {state === "untrusted" && (
          <Alert tone="warning" title="Not verified against a key you trust">
            Everything in the bundle is consistent, but only with the log key it carries itself, and anyone
            can make such a bundle. What it says is shown below as its claim. Give the institution's log key
            (or use this node's, above) and drop it again.
          </Alert>
        )}
        {state === "failed" && (
          <Alert tone="danger" title="This bundle does not verify">
            Nothing in it is shown as content: the failures below say what does not check out, and where.
          </Alert>
        )}
        {report && (
          <>
            <h3 class="report-title">Verification report</h3>
            <pre id="report" class="report" tabIndex={0} aria-label="Verification report">
              {report}
            </pre>
          </>
        )}
        {!report && <pre id="report" class="report" hidden />}
        <p class="hint">
          To verify offline, <a href="/verifier.html">save the standalone verifier</a> (one HTML file) and
          open it from disk.
        </p>
      </Section>
      {summary && (state === "verified" || state === "untrusted") && (
        <SummaryView summary={summary} trusted={state === "verified"} />
      )}
    </Page>
  );
}
