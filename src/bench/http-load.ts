/**
 * The load generator of the HTTP benchmark, run as a second process (src/bench/http.ts spawns it) so
 * that the client's work does not share the server's event loop. Uses autocannon on loopback:
 *
 *   append: every pre-signed entry of a file POSTed once as exact canonical bytes, with the bearer
 *           token of the entry's actor, over `connections` keep-alive connections;
 *   tiles:  GET requests cycling over a list of tile paths for `seconds`.
 *
 * Reads its job as JSON from argv[2]; prints autocannon's figures as one JSON line on stdout.
 */
import autocannon, { type Request, type Result } from "autocannon";
import { readEntries } from "./append.js";

interface Job {
  readonly url: string;
  readonly mode: "append" | "tiles";
  readonly connections: number;
  readonly entriesFile?: string;
  readonly tokens?: Record<string, string>;
  readonly tilePaths?: string[];
  readonly seconds?: number;
}

const job = JSON.parse(process.argv[2]!) as Job;

async function appendLoad(): Promise<Result> {
  const bodies: Buffer[] = [];
  const auth: string[] = [];
  for (const chunk of readEntries(job.entriesFile!, 4096))
    for (const bytes of chunk) {
      const actor = (JSON.parse(Buffer.from(bytes).toString("utf8")) as { actor: string }).actor;
      bodies.push(Buffer.from(bytes));
      auth.push(`Bearer ${job.tokens![actor]!}`);
    }
  // autocannon builds each connection's first request up front; spare entries cover those builds,
  // and a global cursor hands every entry out at most once (no duplicates).
  const amount = bodies.length - 2 * job.connections;
  let next = 0;
  const request: Request = {
    method: "POST",
    path: "/api/v1/entries",
    setupRequest: (r) => {
      const i = next++ % bodies.length;
      return {
        ...r,
        body: bodies[i]!,
        headers: { "content-type": "application/vnd.radledger.entry+json", authorization: auth[i]! },
      };
    },
  };
  return autocannon({ url: job.url, connections: job.connections, amount, timeout: 60, requests: [request] });
}

async function tileLoad(): Promise<Result> {
  // Static requests: autocannon builds each once and cycles through them on every connection.
  const requests: Request[] = job.tilePaths!.map((path) => ({ method: "GET", path }));
  return autocannon({ url: job.url, connections: job.connections, duration: job.seconds ?? 5, requests });
}

const result = job.mode === "append" ? await appendLoad() : await tileLoad();
process.stdout.write(
  JSON.stringify({
    seconds: result.duration,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Millis: result.latency.p50,
    latencyP99Millis: result.latency.p99,
    latencyMaxMillis: result.latency.max,
    cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
  }) + "\n",
);
