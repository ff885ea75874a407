/**
 * The browser verifier's Web Worker: reads the dropped bundle as a stream (never the whole file at
 * once), runs the pure core's verifier (src/core/bundle/verify.ts) — the same code as the CLI — with
 * @noble for hashing and WebCrypto Ed25519 for signatures where the browser has it, and posts
 * progress and the report back. No network request is made.
 */
import { nobleCrypto } from "../../core/crypto-noble.js";
import { tarMembers } from "../../core/tar.js";
import { inlineSignatureVerifier, webCryptoSignatureVerifier } from "../../core/bundle/signatures.js";
import { verifyBundle } from "../../core/bundle/verify.js";
import { formatBundleReport } from "../../core/bundle/report.js";

export interface VerifyRequestMessage {
  readonly file: Blob;
  readonly logKeys: string[];
  readonly witnessKeys: string[];
  readonly minWitnesses: number;
}

export type WorkerMessage =
  | { readonly type: "progress"; readonly done: number; readonly total: number }
  | {
      readonly type: "result";
      readonly ok: boolean;
      readonly text: string;
      readonly report: unknown;
      readonly engine: string;
      readonly ms: number;
    };

interface WorkerScope {
  onmessage: ((e: MessageEvent<VerifyRequestMessage>) => void) | null;
  postMessage(message: WorkerMessage): void;
}
const scope = globalThis as unknown as WorkerScope;

async function* chunks(file: Blob): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

scope.onmessage = (e) => {
  void (async () => {
    const started = performance.now();
    const { file, logKeys, witnessKeys, minWitnesses } = e.data;
    const webCrypto = await webCryptoSignatureVerifier(nobleCrypto);
    const signatures = webCrypto ?? inlineSignatureVerifier(nobleCrypto);
    const report = await verifyBundle(tarMembers(chunks(file)), {
      crypto: nobleCrypto,
      signatures,
      logKeys,
      witnessKeys,
      minWitnesses,
      onProgress: (done, total) => scope.postMessage({ type: "progress", done, total }),
    });
    scope.postMessage({
      type: "result",
      ok: report.ok,
      text: formatBundleReport(report),
      report,
      engine: webCrypto ? "WebCrypto Ed25519" : "@noble Ed25519",
      ms: Math.round(performance.now() - started),
    });
  })();
};
