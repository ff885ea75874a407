/**
 * Verify a bundle (public, no sign-in): the person gives the log key they trust (pasted, from a file,
 * or a consortium policy), drops a bundle, and the verdict is computed in a Web Worker by the pure
 * core (src/web/verifier/worker.ts, the CLI's verifier): VERIFIED only against a key the person
 * trusts, UNTRUSTED when the bundle checks out only against the key it carries itself, FAILED.
 * Nothing is uploaded: the worker reads the file in this browser.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { VerifyRequestMessage, WorkerMessage } from "../../../verifier/worker.js";
import { Page, Section } from "../../ui/index.js";

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
          />
        </div>
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
        <pre id="report" class="report" tabIndex={report ? 0 : -1}>
          {report}
        </pre>
        <p class="hint">
          To verify offline, <a href="/verifier.html">save the standalone verifier</a> (one HTML file) and
          open it from disk.
        </p>
      </Section>
    </Page>
  );
}
