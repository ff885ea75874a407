/**
 * HttpClient over Node's fetch (undici): a per-request timeout through AbortSignal, bodies capped
 * (a peer or witness is not trusted to send a bounded answer), statuses returned rather than thrown.
 * Connections are kept alive by undici's default agent (tlog-witness asks clients to reuse them).
 */
import { RadledgerError } from "../../core/errors.js";
import type { HttpClient, HttpResponse } from "../../ports/consortium.js";

/** Large enough for a full entry bundle (256 entries of up to 64 KiB each). */
const MAX_RESPONSE = 17 * 1024 * 1024;

async function read(res: Response): Promise<HttpResponse> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_RESPONSE) {
    await res.body?.cancel();
    throw new RadledgerError("PEER_UNAVAILABLE", "response too large");
  }
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_RESPONSE) {
        await reader.cancel();
        throw new RadledgerError("PEER_UNAVAILABLE", "response too large");
      }
      chunks.push(value);
    }
  }
  const body = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    body.set(c, o);
    o += c.byteLength;
  }
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", body };
}

async function request(url: string, init: RequestInit, timeoutMs: number): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await read(await fetch(url, { ...init, signal, redirect: "error" }));
  } catch (e) {
    if (e instanceof RadledgerError) throw e;
    const why = signal.aborted ? `timed out after ${timeoutMs} ms` : (e as Error).message;
    // Only scheme, host and port: a URL's path or query may carry credentials.
    let where = "(invalid URL)";
    try {
      const u = new URL(url);
      where = `${u.protocol}//${u.host}`;
    } catch {
      // keep the placeholder
    }
    throw new RadledgerError("PEER_UNAVAILABLE", `${where}: ${why}`);
  }
}

export const fetchHttpClient: HttpClient = {
  get: (url, timeoutMs, headers) =>
    request(url, { method: "GET", ...(headers === undefined ? {} : { headers }) }, timeoutMs),
  post: (url, body, timeoutMs) =>
    request(
      url,
      { method: "POST", body, headers: { "content-type": "text/plain; charset=utf-8" } },
      timeoutMs,
    ),
};
