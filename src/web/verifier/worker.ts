/**
 * The browser verifier's Web Worker: reads the dropped bundle as a stream (never the whole file at
 * once, nor any one member of it whole), runs the pure core's verifier (src/core/bundle/verify.ts) — the same code as the CLI — with
 * @noble for hashing and WebCrypto Ed25519 for signatures where the browser has it, and posts
 * progress and the report back, with the verdict of src/core/bundle/trust.ts — VERIFIED only against
 * a log key the person gave (or a policy names), UNTRUSTED against the bundle's own key, FAILED — the
 * same as `radledger verify`. A malformed key or policy is reported as such, not as the bundle's
 * failure. No network request is made.
 */
import { nobleCrypto } from "../../core/crypto-noble.js";
import { tarStream } from "../../core/tar.js";
import { inlineSignatureVerifier, webCryptoSignatureVerifier } from "../../core/bundle/signatures.js";
import { verifyBundle } from "../../core/bundle/verify.js";
import { formatBundleReport } from "../../core/bundle/report.js";
import { parseTrustAnchors, TRUST_VERDICT, type TrustState } from "../../core/bundle/trust.js";
import { isRadledgerError } from "../../core/errors.js";
import { capture, summarize, type BundleSummary, type Captured } from "./summary.js";

export interface VerifyRequestMessage {
  readonly file: Blob;
  readonly logKeys: string[];
  readonly witnessKeys: string[];
  readonly minWitnesses: number;
  /** A consortium policy (C2SP tlog-policy text) the person loaded. */
  readonly policy?: string;
}

export type WorkerMessage =
  | { readonly type: "progress"; readonly done: number; readonly total: number }
  | {
      /** A key or policy the person gave is malformed: nothing was verified. */
      readonly type: "input-error";
      readonly code: string;
      readonly message: string;
    }
  | {
      readonly type: "result";
      readonly ok: boolean;
      readonly trust: TrustState;
      /** VERIFIED, UNTRUSTED or FAILED. */
      readonly verdict: string;
      readonly text: string;
      readonly report: unknown;
      readonly engine: string;
      readonly ms: number;
      /**
       * What the bundle says (summary.ts), built only from the bytes the core verified and only when
       * the verdict is not FAILED; absent otherwise. The standalone page (page.ts) ignores it.
       */
      readonly summary?: BundleSummary;
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
    const { file, logKeys, witnessKeys, minWitnesses, policy } = e.data;
    const trustInputs = { logKeys, witnessKeys, minWitnesses, ...(policy === undefined ? {} : { policy }) };
    try {
      parseTrustAnchors(nobleCrypto, trustInputs);
    } catch (err) {
      scope.postMessage({
        type: "input-error",
        code: isRadledgerError(err) ? err.code : "INPUT_INVALID",
        message: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    const webCrypto = await webCryptoSignatureVerifier(nobleCrypto);
    const signatures = webCrypto ?? inlineSignatureVerifier(nobleCrypto);
    // Streamed member by member (a large DICOM instance is hashed as it passes, never held); the
    // file's size bounds what a tar header may declare.
    const captured: Captured = { entryFiles: [], disclosures: new Map(), bytes: 0, overflow: false };
    const report = await verifyBundle(capture(tarStream(chunks(file), { totalSize: file.size }), captured), {
      crypto: nobleCrypto,
      signatures,
      ...trustInputs,
      onProgress: (done, total) => scope.postMessage({ type: "progress", done, total }),
    });
    let summary: BundleSummary | undefined;
    try {
      summary = summarize(nobleCrypto, report, captured);
    } catch {
      // The bytes were verified, so this is not expected; the verdict stands without a summary.
      summary = undefined;
    }
    scope.postMessage({
      type: "result",
      ok: report.ok,
      trust: report.trust,
      verdict: TRUST_VERDICT[report.trust],
      text: formatBundleReport(report),
      report,
      engine: webCrypto ? "WebCrypto Ed25519" : "@noble Ed25519",
      ms: Math.round(performance.now() - started),
      ...(summary ? { summary } : {}),
    });
  })();
};
