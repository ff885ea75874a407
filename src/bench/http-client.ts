/**
 * A minimal HTTP/1.1 load client for the benchmarks: `connections` keep-alive sockets, each with one
 * request in flight, taking prebuilt request bytes from a shared `next()` until it returns undefined.
 * A response is read as its status line, its headers up to the blank line and exactly
 * Content-Length body bytes (RFC 9112 §6.3), which the client skips without decoding: the point is to
 * spend as little of the shared CPU as possible on the client side. Responses without a
 * Content-Length (chunked, close-delimited) are counted as errors; the node's API never sends them
 * for the routes benchmarked.
 */
import { connect } from "node:net";

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** The next request's bytes, or undefined when there is nothing more to send. */
  readonly next: () => Buffer | undefined;
  /** A connection whose answer takes longer is closed and counted as a timeout. */
  readonly timeoutMillis?: number;
}

export interface LoadResult {
  readonly seconds: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latencyP50Millis: number;
  readonly latencyP99Millis: number;
  readonly latencyMaxMillis: number;
}

const HEADER_END = Buffer.from("\r\n\r\n", "latin1");
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r?$/im;

export async function runClients(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const counts = { ok: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const started = performance.now();

  function connection(): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: o.host, port: o.port, noDelay: true });
      socket.setTimeout(o.timeoutMillis ?? 60_000);
      let pending: Buffer | undefined; // header bytes received so far
      let bodyLeft = -1; // -1 while reading the status line and headers
      let status = 0;
      let sentAt = 0;
      let inFlight = false;

      const send = (): void => {
        const request = o.next();
        if (request === undefined) {
          inFlight = false;
          socket.end();
          return;
        }
        inFlight = true;
        sentAt = performance.now();
        socket.write(request);
      };
      const answered = (): void => {
        latencies.push(performance.now() - sentAt);
        if (status >= 200 && status < 300) counts.ok++;
        else counts.non2xx++;
        bodyLeft = -1;
        send();
      };

      socket.on("connect", send);
      socket.on("data", (chunk: Buffer) => {
        let data = chunk;
        while (data.length > 0) {
          if (bodyLeft < 0) {
            const all = pending ? Buffer.concat([pending, data]) : data;
            const end = all.indexOf(HEADER_END);
            if (end < 0) {
              pending = all;
              return;
            }
            pending = undefined;
            const head = all.toString("latin1", 0, end);
            status = Number(head.slice(9, 12));
            const length = CONTENT_LENGTH.exec(head);
            if (!length) {
              counts.errors++;
              inFlight = false;
              socket.destroy();
              return;
            }
            bodyLeft = Number(length[1]);
            data = all.subarray(end + HEADER_END.length);
            if (bodyLeft === 0) {
              answered();
              continue;
            }
          }
          const take = Math.min(bodyLeft, data.length);
          bodyLeft -= take;
          data = data.subarray(take);
          if (bodyLeft === 0) answered();
        }
      });
      socket.on("timeout", () => {
        counts.timeouts++;
        inFlight = false;
        socket.destroy();
      });
      socket.on("error", () => {
        if (inFlight) counts.errors++;
        inFlight = false;
      });
      socket.on("close", () => {
        if (inFlight) counts.errors++;
        resolve();
      });
    });
  }

  await Promise.all(Array.from({ length: o.connections }, connection));
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number): number =>
    sorted.length === 0
      ? 0
      : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return {
    seconds: Math.round(seconds * 1000) / 1000,
    ...counts,
    latencyP50Millis: at(0.5),
    latencyP99Millis: at(0.99),
    latencyMaxMillis: at(1),
  };
}
