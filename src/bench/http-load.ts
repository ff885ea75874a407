/**
 * The load generator of the HTTP benchmark, run as a second process (src/bench/http.ts spawns it) so
 * that the client's work does not share the server's event loop:
 *
 *   append: every pre-signed entry of a file POSTed once as exact canonical bytes, with the bearer
 *           token of the entry's actor, over `connections` keep-alive connections;
 *   tiles:  GET requests cycling over a list of tile paths for `seconds` (with a bearer token when
 *           given: entry bundles need one).
 *
 * A minimal HTTP/1.1 keep-alive client over plain sockets (http-client.ts), one request in flight
 * per connection. It replaced autocannon, which decodes every response body: ≈ 150 µs of client CPU
 * per 8 KiB tile of random hash bytes against ≈ 30 µs for 8 KiB of one repeated ASCII byte. On a
 * 2-core machine that made the load generator, not the node, the bottleneck of the tile figure.
 *
 * Reads its job as JSON from argv[2]; prints the figures as one JSON line on stdout.
 */
import { readEntries } from "./append.js";
import { runClients, type LoadResult } from "./http-client.js";

interface Job {
  readonly url: string;
  readonly mode: "append" | "tiles";
  readonly connections: number;
  readonly entriesFile?: string;
  readonly tokens?: Record<string, string>;
  readonly tilePaths?: string[];
  readonly seconds?: number;
  /** tiles: a bearer token sent with every GET (entry bundles are served to admins and auditors). */
  readonly bearer?: string;
}

const job = JSON.parse(process.argv[2]!) as Job;
const url = new URL(job.url);
const host = `Host: ${url.host}\r\n`;

function appendRequests(): Buffer[] {
  // Built before the clock starts: the timed loop only writes bytes and reads answers.
  const requests: Buffer[] = [];
  for (const chunk of readEntries(job.entriesFile!, 4096))
    for (const bytes of chunk) {
      const actor = (JSON.parse(Buffer.from(bytes).toString("utf8")) as { actor: string }).actor;
      const head =
        `POST /api/v1/entries HTTP/1.1\r\n${host}` +
        "Content-Type: application/vnd.radledger.entry+json\r\n" +
        `Authorization: Bearer ${job.tokens![actor]!}\r\nContent-Length: ${bytes.byteLength}\r\n\r\n`;
      requests.push(Buffer.concat([Buffer.from(head, "latin1"), bytes]));
    }
  return requests;
}

let result: LoadResult;
if (job.mode === "append") {
  const requests = appendRequests();
  let next = 0;
  // A global cursor hands every entry out exactly once, whichever connection is free.
  result = await runClients({
    port: Number(url.port),
    host: url.hostname,
    connections: job.connections,
    next: () => requests[next++],
  });
} else {
  const auth = job.bearer === undefined ? "" : `Authorization: Bearer ${job.bearer}\r\n`;
  const requests = job.tilePaths!.map((p) =>
    Buffer.from(`GET ${p} HTTP/1.1\r\n${host}${auth}\r\n`, "latin1"),
  );
  let next = 0;
  const until = performance.now() + (job.seconds ?? 5) * 1000;
  result = await runClients({
    port: Number(url.port),
    host: url.hostname,
    connections: job.connections,
    next: () => (performance.now() < until ? requests[next++ % requests.length] : undefined),
  });
}
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ ...result, cpuMicros: cpu.user + cpu.system }) + "\n");
