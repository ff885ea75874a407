/**
 * Prometheus metrics in the text exposition format (version 0.0.4), served at /metrics: appends (from
 * the node's appender, whoever the writer) and their batching (from the ledger's commit hook), HTTP requests and latencies by route template
 * (never the raw URL, so no identifier ever becomes a label), checkpoint size, and the gatekeeper's
 * decisions by outcome. A small registry of our own: counters, gauges and fixed-bucket histograms is
 * all it needs.
 */
import type { AppendObservation } from "../domain/ledger/appender.js";
import type { CommitInfo } from "../domain/ledger/ledger.js";

type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  const escape = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return `{${keys.map((k) => `${k}="${escape(labels[k]!)}"`).join(",")}}`;
}

/** One string per label set, independent of key order (called on every request: no JSON, no arrays). */
function keyOf(labels: Labels): string {
  let key = "";
  for (const name of Object.keys(labels).sort()) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: "counter" | "gauge" | "histogram",
  ) {}
  abstract lines(): string[];
  text(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`, ...this.lines()].join(
      "\n",
    );
  }
}

export class Counter extends Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(labels);
    const cur = this.#values.get(k);
    if (cur) cur.value += by;
    else this.#values.set(k, { labels, value: by });
  }
  value(labels: Labels = {}): number {
    return this.#values.get(keyOf(labels))?.value ?? 0;
  }
  lines(): string[] {
    return [...this.#values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`);
  }
}

export class Gauge extends Metric {
  constructor(
    name: string,
    help: string,
    private readonly read: () => number,
  ) {
    super(name, help, "gauge");
  }
  lines(): string[] {
    return [`${this.name} ${this.read()}`];
  }
}

export class Histogram extends Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, "histogram");
  }
  observe(value: number, labels: Labels = {}): void {
    const k = keyOf(labels);
    let s = this.#series.get(k);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.#series.values()) {
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`),
      );
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

export class Metrics {
  readonly appends = new Counter(
    "radledger_appends_total",
    "Entries submitted to the node's appender by any writer, by outcome.",
  );
  readonly batchSize = new Histogram(
    "radledger_commit_batch_entries",
    "Entries admitted per committed batch.",
    BATCH_BUCKETS,
  );
  readonly commitSeconds = new Histogram(
    "radledger_commit_duration_seconds",
    "Time to admit and durably commit one batch.",
    LATENCY_BUCKETS,
  );
  readonly appendSeconds = new Histogram(
    "radledger_append_duration_seconds",
    "Time from a submission to the node's appender (any writer) to its entries being durable or refused.",
    LATENCY_BUCKETS,
  );
  readonly requests = new Counter("radledger_http_requests_total", "HTTP requests by route and status.");
  readonly requestSeconds = new Histogram(
    "radledger_http_request_duration_seconds",
    "HTTP request latency by route.",
    LATENCY_BUCKETS,
  );
  readonly accessDecisions = new Counter(
    "radledger_access_decisions_total",
    "Gatekeeper decisions recorded on the log, by decision and basis or reason.",
  );
  readonly rateLimited = new Counter("radledger_rate_limited_total", "Requests refused by a rate limit.");
  readonly auditMessages = new Counter(
    "radledger_audit_messages_total",
    "IHE ATNA audit messages received over syslog, by transport and outcome (recorded, or the refusal's code; docs/audit.md).",
  );
  #logSize = 0;
  #checkpointSize = 0;
  readonly #gauges: Gauge[];

  constructor(read?: { logSize: () => number; checkpointSize: () => number }) {
    this.#gauges = [
      new Gauge(
        "radledger_log_size",
        "Entries committed to the log.",
        read?.logSize ?? (() => this.#logSize),
      ),
      new Gauge(
        "radledger_checkpoint_size",
        "Tree size of the latest signed checkpoint.",
        read?.checkpointSize ?? (() => this.#checkpointSize),
      ),
    ];
  }

  /** The appender's hook (Appender.onAppend): every submission, whoever the writer. */
  append(o: AppendObservation): void {
    if (o.admitted > 0) this.appends.inc({ outcome: "admitted" }, o.admitted);
    if (o.submitted > o.admitted) this.appends.inc({ outcome: "refused" }, o.submitted - o.admitted);
    this.appendSeconds.observe(o.seconds);
  }

  /** The ledger's commit hook (RadledgerNode.onCommit). */
  commit(info: CommitInfo): void {
    if (info.admitted > 0) this.batchSize.observe(info.admitted);
    this.commitSeconds.observe(info.commitMillis / 1000);
    this.#logSize = info.size;
    this.#checkpointSize = info.size;
  }

  text(): string {
    const all: Metric[] = [
      this.appends,
      this.batchSize,
      this.commitSeconds,
      this.appendSeconds,
      this.requests,
      this.requestSeconds,
      this.accessDecisions,
      this.rateLimited,
      this.auditMessages,
      ...this.#gauges,
    ];
    return all.map((m) => m.text()).join("\n") + "\n";
  }
}
