/**
 * The browser verifier page (GET /verify, or the same HTML saved as a file): a person gives the log
 * key they trust (pasted, or picked from a file) or loads a consortium policy, drops a bundle, and sees
 * the verification report, computed in a Web Worker by the pure core — nothing leaves the browser.
 * The verdict is the CLI's (src/core/bundle/trust.ts): VERIFIED only against a key the person
 * trusts, UNTRUSTED when the bundle checks out only against the key it carries itself, FAILED. The worker's code is inlined into the page at build time (scripts/build-web.mjs) and
 * started from a Blob, so that the saved page works from file:// too.
 */
import type { VerifyRequestMessage, WorkerMessage } from "./worker.js";

declare const __WORKER_SOURCE__: string;

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const drop = $("drop") as HTMLDivElement;
const input = $("file") as HTMLInputElement;
const verdict = $("verdict") as HTMLDivElement;
const progress = $("progress") as HTMLProgressElement;
const out = $("report") as HTMLPreElement;
const lines = (id: string): string[] =>
  ($(id) as HTMLTextAreaElement).value
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

let worker: Worker | undefined;

/** The verdict box: its state is the trust state (verified, untrusted, failed), or running / input-error. */
function show(state: string, text: string): void {
  verdict.dataset.state = state;
  verdict.className = state;
  verdict.textContent = text;
}

/** The loaded policy file's text, if any. */
async function policyText(): Promise<string | undefined> {
  const f = ($("policy") as HTMLInputElement).files?.[0];
  return f ? f.text() : undefined;
}

async function verify(file: File): Promise<void> {
  worker?.terminate();
  worker = new Worker(URL.createObjectURL(new Blob([__WORKER_SOURCE__], { type: "text/javascript" })));
  show("running", `Verifying ${file.name} (${file.size.toLocaleString()} bytes) in your browser…`);
  delete verdict.dataset.ms;
  out.textContent = "";
  progress.value = 0;
  progress.hidden = false;
  worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    if (m.type === "progress") {
      progress.max = m.total;
      progress.value = m.done;
      return;
    }
    progress.hidden = true;
    if (m.type === "input-error") {
      show("input-error", `Not verified — ${m.code}: ${m.message}`);
      return;
    }
    verdict.dataset.ms = String(m.ms);
    show(
      m.trust,
      m.trust === "verified"
        ? `${m.verdict} — ${file.name} (${m.ms} ms, ${m.engine})`
        : m.trust === "untrusted"
          ? `${m.verdict} — ${file.name} is consistent only with the log key it carries itself, which anyone can make: paste the institution's log key or load a consortium policy to verify it (${m.ms} ms)`
          : `${m.verdict} — ${file.name} does not verify (${m.ms} ms)`,
    );
    out.textContent = m.text;
  };
  worker.onerror = (e) => show("failed", `FAILED — the verifier stopped: ${e.message}`);
  const min = Number(($("min-witnesses") as HTMLInputElement).value || "0");
  const policy = await policyText();
  const message: VerifyRequestMessage = {
    file,
    logKeys: lines("log-keys"),
    witnessKeys: lines("witness-keys"),
    minWitnesses: Number.isSafeInteger(min) && min >= 0 ? min : 0,
    ...(policy === undefined ? {} : { policy }),
  };
  worker.postMessage(message);
}

const start = (f: File): void => {
  verify(f).catch((e: unknown) => show("failed", `FAILED — the verifier stopped: ${String(e)}`));
};

input.addEventListener("change", () => {
  const f = input.files?.[0];
  if (f) start(f);
});
// A key file (e.g. the institution's published vkey) adds its keys to the field.
const keyFile = $("log-key-file") as HTMLInputElement;
keyFile.addEventListener("change", () => {
  const f = keyFile.files?.[0];
  if (!f) return;
  void f.text().then((text) => {
    const field = $("log-keys") as HTMLTextAreaElement;
    field.value = [field.value.trim(), text.trim()].filter((l) => l.length > 0).join("\n");
  });
});
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer?.files[0];
  if (f) start(f);
});
