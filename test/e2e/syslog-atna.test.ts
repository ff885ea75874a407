/**
 * IHE ATNA over syslog with real senders (docs/audit.md): util-linux `logger` over TCP (RFC 6587
 * octet counting) and UDP (RFC 5426), OpenSSL's `s_client` over TLS with a client certificate
 * (RFC 5425, mutual TLS) against `radledger serve --syslog-tcp/--syslog-udp/--syslog-tls`. Each
 * accepted message is an access.reported entry signed by the PACS's system actor, with the
 * patient's pseudonym and a commitment to the raw message; hostile input (garbage, truncated
 * frames, a 65 KiB frame, wrong XML, an unknown sender, no certificate) is refused and counted, and
 * the receivers keep serving. A burst of 10,000 messages over one TCP connection is absorbed with
 * none lost (the entries are counted; the rate is printed for docs/performance.md).
 *
 * Certificates are made with openssl at test time in a temporary directory; no key is committed.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { fromUtf8, toBase64 } from "../../src/core/bytes.js";
import { reportedAccesses } from "../../src/domain/access/reported.js";
import { openReadOnly } from "../../src/wiring/read-only.js";
import { auditMessageXml } from "../helpers/audit-messages.js";
import { CLI, runCli } from "../helpers/cli.js";
import { studyBody } from "../helpers/fixtures.js";
import { makeNode, tempDir } from "../helpers/node.js";

const STUDY_UID = "1.2.826.0.1.3680043.8.498.4242";
const tmp = tempDir("radledger-atna-");
const file = (name: string): string => join(tmp.path, name);
let dataDir = "";
let patient = "";
let studyKey = "";
let closeNodeDir = async (): Promise<void> => undefined;
let served: { child: ChildProcess; https: string; ports: Record<string, number> } | undefined;

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(name: string): void {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file(`${name}.key`));
  openssl(
    ...["req", "-x509", "-new", "-key", file(`${name}.key`), "-sha256", "-days", "2"],
    ...["-subj", `/CN=${name}`, "-out", file(`${name}.pem`)],
  );
}

function makeLeaf(name: string, ca: string, extensions: string): void {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file(`${name}.key`));
  openssl("req", "-new", "-key", file(`${name}.key`), "-subj", `/CN=${name}`, "-out", file(`${name}.csr`));
  writeFileSync(file(`${name}.ext`), extensions);
  openssl(
    ...["x509", "-req", "-in", file(`${name}.csr`), "-CA", file(`${ca}.pem`), "-CAkey", file(`${ca}.key`)],
    ...[
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      file(`${name}.ext`),
      "-out",
      file(`${name}.pem`),
    ],
  );
}

const CLIENT_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";

/** The audit message on one line (logger sends its argument as one message). */
const oneLine = (xml: string): string => xml.replace(/\n\s*/g, " ");

function startServe(): Promise<NonNullable<typeof served>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...[CLI, "serve", "--data", dataDir, "--port", "0"],
        ...[
          "--tls-cert",
          file("server.pem"),
          "--tls-key",
          file("server.key"),
          "--tls-client-ca",
          file("ca.pem"),
        ],
        ...["--syslog-tcp", "0", "--syslog-udp", "0", "--syslog-tls", "0"],
        ...["--syslog-source", "127.0.0.1=pacs-main", "--log"],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const https = /at (https:\/\/[^\s]+)/.exec(out);
      const ports: Record<string, number> = {};
      for (const m of out.matchAll(/IHE ATNA audit messages: (syslog-\w+) at 127\.0\.0\.1:(\d+)/g))
        ports[m[1]!] = Number(m[2]);
      if (https && Object.keys(ports).length === 3) resolve({ child, https: https[1]!, ports });
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

/** The node's audit message counters, from /metrics: "transport outcome" → count. */
async function counts(): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpsGet(
      `${served!.https}/metrics`,
      { ca: readFileSync(file("ca.pem")), agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
  });
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^radledger_audit_messages_total\{(.*)\} (\d+)$/gm)) {
    const labels = new Map([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    out[`${labels.get("transport")} ${labels.get("outcome")}`] = Number(m[2]);
  }
  return out;
}

/** Polls the metrics until `key` reaches `n` (the receivers answer nothing: metrics are what they say). */
async function until(key: string, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = (await counts())[key] ?? 0;
    if (c >= n) return;
    if (Date.now() > deadline)
      throw new Error(`${key} stayed at ${c}, expected ${n}: ${JSON.stringify(await counts())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logger(args: readonly string[], message: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      "logger",
      [
        ...args,
        "-n",
        "127.0.0.1",
        "--rfc5424",
        "--size",
        "65536",
        "--msgid",
        "IHE+RFC-3881",
        "-t",
        "PACS",
        message,
      ],
      (e) => (e ? reject(new Error(e.message)) : resolve()),
    ),
  );
}

/** A raw TCP connection to the plain receiver, from `localAddress`. */
function tcp(localAddress = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port: served!.ports["syslog-tcp"]!, localAddress }, () =>
      resolve(s),
    );
    s.on("error", reject);
  });
}

const frame = (msg: string): Buffer => {
  const b = Buffer.from(msg, "utf8");
  return Buffer.concat([Buffer.from(`${b.length} `), b]);
};
const syslog = (xml: string): string =>
  `<85>1 2026-12-07T21:15:30.123Z pacs PACS 42 IHE+RFC-3881 - ${oneLine(xml)}`;

function reported(): ReturnType<typeof reportedAccesses> {
  const log = openReadOnly(dataDir);
  try {
    return reportedAccesses(log.store, patient, { limit: 20_000 });
  } finally {
    log.close();
  }
}

beforeAll(async () => {
  makeCa("ca");
  makeCa("rogue-ca");
  makeLeaf(
    "server",
    "ca",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  makeLeaf("pacs", "ca", CLIENT_EXT);
  makeLeaf("rogue", "rogue-ca", CLIENT_EXT);

  const t = await makeNode();
  dataDir = t.dir;
  const held = t.node.heldKeys.put("pacs-main", crypto.randomBytes(32));
  await t.node.appender.append(
    t.sign(t.admin, "actor.enrolled", {
      actorId: "pacs-main",
      kind: "system",
      roles: ["integration"],
      publicKey: toBase64(held.publicKey),
      displayName: "Main PACS",
    }),
  );
  patient = t.node.pseudonym("patient", "PAT-0001");
  studyKey = t.node.pseudonym("study", STUDY_UID);
  await t.node.appender.append(t.sign(t.institution, "study.registered", studyBody(patient, { studyKey })));
  await t.node.close();
  closeNodeDir = () => t.close();
  const bound = await runCli([
    "token",
    "bind-cert",
    "--data",
    dataDir,
    "--actor",
    "pacs-main",
    "--cert",
    file("pacs.pem"),
  ]);
  expect(bound.code, bound.stderr).toBe(0);
  served = await startServe();
}, 120_000);

afterAll(async () => {
  if (served && served.child.exitCode === null) {
    const exited = new Promise((r) => served!.child.once("exit", r));
    served.child.kill("SIGTERM");
    await exited;
  }
  await closeNodeDir();
  tmp.remove();
});

test("logger over TCP (octet counting) and UDP: each message an access.reported entry signed by the PACS", async () => {
  const xml = oneLine(auditMessageXml({ studyUid: STUDY_UID }));
  await logger(["--tcp", "--octet-count", "-P", String(served!.ports["syslog-tcp"])], xml);
  await until("syslog-tcp recorded", 1);
  await logger(["--udp", "-P", String(served!.ports["syslog-udp"])], xml);
  await until("syslog-udp recorded", 1);
  const entries = reported();
  expect(entries.map((e) => [e.reportedBy, e.body.transport])).toEqual([
    ["pacs-main", "syslog-udp"],
    ["pacs-main", "syslog-tcp"],
  ]);
  for (const e of entries) {
    expect(e.body.patient).toBe(patient);
    expect(e.body.studies).toEqual([studyKey]);
    expect(e.body.event.id.code).toBe("110103");
    expect(e.body.message).toMatch(/^[0-9a-f]{64}$/);
  }
  // The entry's bytes name no raw identifier: not the patient number, not the UID, no name.
  const log = openReadOnly(dataDir);
  try {
    for (const e of entries) {
      const text = fromUtf8(log.store.entryByLeafHash(e.id)!.bytes);
      for (const raw of ["PAT-0001", STUDY_UID, "DOE", "Gregory"]) expect(text).not.toContain(raw);
    }
  } finally {
    log.close();
  }
});

test("openssl s_client over TLS with the PACS's client certificate (mutual TLS); no certificate or another CA's: refused", async () => {
  const port = String(served!.ports["syslog-tls"]);
  const sClient = (cert: string | undefined): Promise<void> =>
    new Promise((resolve) => {
      const child = execFile(
        "openssl",
        [
          ...[
            "s_client",
            "-connect",
            `127.0.0.1:${port}`,
            "-CAfile",
            file("ca.pem"),
            "-quiet",
            "-no_ign_eof",
          ],
          ...(cert === undefined ? [] : ["-cert", file(`${cert}.pem`), "-key", file(`${cert}.key`)]),
        ],
        () => resolve(),
      );
      child.stdin!.end(frame(syslog(auditMessageXml())));
    });
  await sClient("pacs");
  await until("syslog-tls recorded", 1);
  const before = (await counts())["syslog-tls AUDIT_SOURCE_UNKNOWN"] ?? 0;
  await sClient(undefined);
  await sClient("rogue");
  await until("syslog-tls AUDIT_SOURCE_UNKNOWN", before + 2);
  expect((await counts())["syslog-tls recorded"]).toBe(1);
  expect(reported().filter((e) => e.body.transport === "syslog-tls")).toHaveLength(1);
});

test("hostile senders are refused and counted; the receivers keep serving", async () => {
  const c0 = await counts();
  const n = (k: string): number => c0[k] ?? 0;
  const send = async (bytes: Buffer | string, from?: string): Promise<void> => {
    const s = await tcp(from);
    await new Promise<void>((resolve) => {
      s.on("close", () => resolve());
      s.on("error", () => undefined);
      s.end(bytes);
    });
  };
  // Garbage (no octet count): the stream cannot be resynchronised; that connection is closed.
  await send("GET / HTTP/1.1\r\n\r\n");
  // A frame announcing 65 KiB + 1 octets, and a real 65 KiB message: too large.
  await send("66561 <85>1 - - - - - -");
  await send(frame(syslog(auditMessageXml()) + " ".repeat(65 * 1024)));
  // A frame cut short by the end of the connection.
  await send("500 <85>1 2026-12-07T21:15:30.123Z pacs PACS");
  await until("syslog-tcp AUDIT_MESSAGE_MALFORMED", n("syslog-tcp AUDIT_MESSAGE_MALFORMED") + 2);
  await until("syslog-tcp AUDIT_MESSAGE_TOO_LARGE", n("syslog-tcp AUDIT_MESSAGE_TOO_LARGE") + 2);
  // Well-framed but wrong, on one connection that keeps going: not syslog, not XML, not an
  // AuditMessage, an unknown patient — then a good message on the same connection is recorded.
  const recorded = n("syslog-tcp recorded");
  await send(
    Buffer.concat([
      frame("not a syslog message"),
      frame(syslog("<AuditMessage><EventIdentification>")),
      frame(syslog("<Audit/>")),
      frame(syslog(auditMessageXml({ patientId: "NOBODY" }))),
      frame(syslog(auditMessageXml())),
    ]),
  );
  await until("syslog-tcp recorded", recorded + 1);
  await until("syslog-tcp AUDIT_MESSAGE_MALFORMED", n("syslog-tcp AUDIT_MESSAGE_MALFORMED") + 5);
  await until("syslog-tcp AUDIT_MESSAGE_UNKNOWN_PATIENT", n("syslog-tcp AUDIT_MESSAGE_UNKNOWN_PATIENT") + 1);
  // A sender from an address no --syslog-source names: disconnected, counted.
  await send(frame(syslog(auditMessageXml())), "127.0.0.2");
  await until("syslog-tcp AUDIT_SOURCE_UNKNOWN", n("syslog-tcp AUDIT_SOURCE_UNKNOWN") + 1);
  // Garbage over UDP is counted too, and the UDP receiver still takes logger's next message.
  const udp = n("syslog-udp recorded");
  await logger(["--udp", "-P", String(served!.ports["syslog-udp"])], "just some text");
  await logger(["--udp", "-P", String(served!.ports["syslog-udp"])], oneLine(auditMessageXml()));
  await until("syslog-udp recorded", udp + 1);
  expect((await counts())["syslog-udp AUDIT_MESSAGE_MALFORMED"]).toBeGreaterThanOrEqual(1);
  // And logger over TCP still works after all that.
  await logger(
    ["--tcp", "--octet-count", "-P", String(served!.ports["syslog-tcp"])],
    oneLine(auditMessageXml()),
  );
  await until("syslog-tcp recorded", recorded + 2);
  expect(served!.child.exitCode).toBeNull();
});

test("a burst of 10,000 messages over one TCP connection: none lost", async () => {
  const N = 10_000;
  const before = reported().length;
  const recorded = (await counts())["syslog-tcp recorded"] ?? 0;
  const frames = Buffer.concat(
    Array.from({ length: N }, (_, i) => frame(syslog(auditMessageXml({ userId: `user-${i}` })))),
  );
  const started = performance.now();
  const s = await tcp();
  await new Promise<void>((resolve) => s.end(frames, () => resolve()));
  await until("syslog-tcp recorded", recorded + N, 300_000);
  const seconds = (performance.now() - started) / 1000;
  const after = reported();
  expect(after.length - before).toBe(N);
  expect(new Set(after.map((e) => e.body.participants[0]!.userId)).size).toBeGreaterThanOrEqual(N);
  process.stdout.write(
    `ATNA burst: ${N} messages (${frames.length} bytes) over one TCP connection recorded in ${seconds.toFixed(1)} s = ${Math.round(N / seconds)} messages/s\n`,
  );
}, 400_000);
