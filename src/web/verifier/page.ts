/**
 * The browser verifier page (GET /verify, or the same HTML saved as a file): a person drops a bundle
 * and sees the verification report, computed in a Web Worker by the pure core — nothing leaves the
 * browser. The worker's code is inlined into the page at build time (scripts/build-verifier.mjs) and
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

function verify(file: File): void {
  worker?.terminate();
  worker = new Worker(URL.createObjectURL(new Blob([__WORKER_SOURCE__], { type: "text/javascript" })));
  verdict.dataset.state = "running";
  verdict.className = "running";
  verdict.textContent = `Verifying ${file.name} (${file.size.toLocaleString()} bytes) in your browser…`;
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
    verdict.dataset.state = m.ok ? "ok" : "failed";
    verdict.dataset.ms = String(m.ms);
    verdict.className = m.ok ? "ok" : "failed";
    verdict.textContent = m.ok
      ? `VERIFIED — ${file.name} (${m.ms} ms, ${m.engine})`
      : `FAILED — ${file.name} does not verify (${m.ms} ms)`;
    out.textContent = m.text;
  };
  worker.onerror = (e) => {
    verdict.dataset.state = "failed";
    verdict.className = "failed";
    verdict.textContent = `FAILED — the verifier stopped: ${e.message}`;
  };
  const min = Number(($("min-witnesses") as HTMLInputElement).value || "0");
  const message: VerifyRequestMessage = {
    file,
    logKeys: lines("log-keys"),
    witnessKeys: lines("witness-keys"),
    minWitnesses: Number.isSafeInteger(min) && min >= 0 ? min : 0,
  };
  worker.postMessage(message);
}

input.addEventListener("change", () => {
  const f = input.files?.[0];
  if (f) verify(f);
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
  if (f) verify(f);
});
