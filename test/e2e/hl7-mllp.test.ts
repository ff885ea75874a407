/**
 * Reports from a RIS over HL7 v2 MLLP (docs/intake.md) against `radledger serve --mllp`: studies
 * registered by `radledger ingest` from synthetic DICOM (Accession Number ACC<n>), then a RIS sends
 * ORU^R01 with @medplum/hl7's Hl7Client (and a raw socket for broken framing and a pipelined burst).
 * P then F then C become a report that `radledger query report` shows, each section by the
 * radiologist, entered by the RIS; refusals get AE/AR naming the code with nothing recorded; the
 * node keeps serving; the same MSH-10 twice gets the same ACK; 10,000 messages in one burst are all
 * recorded (the entries are counted; the rate is printed for docs/performance.md).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Hl7Message } from "@medplum/core";
import { Hl7Client } from "@medplum/hl7";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toBase64 } from "../../src/core/bytes.js";
import { syntheticInstance } from "../../src/bench/dicom-fixtures.js";
import { reportView } from "../../src/domain/reports/queries.js";
import { openReadOnly } from "../../src/wiring/read-only.js";
import { CLI, runCli } from "../helpers/cli.js";
import { makeNode, tempDir } from "../helpers/node.js";
import { oruMessage } from "../helpers/oru.js";

const STUDIES = 203;
const tmp = tempDir("radledger-mllp-");
let dataDir = "";
let closeNodeDir = async (): Promise<void> => undefined;
let served: { child: ChildProcess; port: number } | undefined;
let client: Hl7Client;

function startServe(): Promise<NonNullable<typeof served>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...[CLI, "serve", "--data", dataDir, "--port", "0", "--mllp", "0"],
        ...["--mllp-source", "127.0.0.1=ris-main", "--mllp-clinician", "RIS-0042=rad-att", "--log"],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /HL7 v2 results \(MLLP\) at 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

const send = async (text: string): Promise<string[]> => {
  const ack = await client.sendAndWait(Hl7Message.parse(text), { timeoutMs: 30_000 });
  const msa = ack.getSegment("MSA")!;
  return [msa.getComponent(1, 1), msa.getComponent(2, 1), msa.getComponent(3, 1)];
};

/** Sends raw bytes on a fresh connection; resolves with everything the node answered until it closed. */
function raw(bytes: Buffer, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port: served!.port }, () => s.end(bytes));
    let got = "";
    const timer = setTimeout(() => reject(new Error(`no close after ${timeoutMs} ms: ${got}`)), timeoutMs);
    s.on("data", (c: Buffer) => (got += c.toString("utf8")));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}
const frame = (text: string): Buffer =>
  Buffer.concat([Buffer.from([0x0b]), Buffer.from(text, "utf8"), Buffer.from([0x1c, 0x0d])]);
/** MSA-1 and MSA-3 of each framed ACK in `text`. */
const acks = (text: string): string[][] =>
  text
    .split("\x1c\r")
    .filter((f) => f.includes("MSA"))
    .map((f) => {
      const msa = Hl7Message.parse(f.slice(f.indexOf("MSH"))).getSegment("MSA")!;
      return [msa.getComponent(1, 1), msa.getComponent(3, 1)];
    });

function logSize(): number {
  const log = openReadOnly(dataDir);
  try {
    return log.store.size();
  } finally {
    log.close();
  }
}

beforeAll(async () => {
  // Synthetic DICOM: one tiny CT instance per study, Accession Number ACC<n>.
  for (let study = 0; study < STUDIES; study++) {
    const dir = join(tmp.path, "dicom", `s${study}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "1.dcm"),
      syntheticInstance({ study, series: 0, instance: 0, rows: 4, columns: 4 }),
    );
  }
  const t = await makeNode();
  dataDir = t.dir;
  const held = t.node.heldKeys.put("ris-main", crypto.randomBytes(32));
  await t.node.appender.append(
    t.sign(t.admin, "actor.enrolled", {
      actorId: "ris-main",
      kind: "system",
      roles: ["integration"],
      publicKey: toBase64(held.publicKey),
      displayName: "Main RIS",
    }),
  );
  await t.enrol("rad-att", ["radiologist"], { displayName: "Dr Attending", specialty: "neuroradiology" });
  await t.enrol("tech-7", ["technologist"], { displayName: "Tech Seven" });
  await t.node.close();
  closeNodeDir = () => t.close();
  const ingest = await runCli(["ingest", "--data", dataDir, join(tmp.path, "dicom"), "--json", "--quiet"]);
  expect(ingest.code, ingest.stderr).toBe(0);
  served = await startServe();
  client = new Hl7Client({ host: "127.0.0.1", port: served.port });
}, 120_000);

afterAll(async () => {
  await client.close();
  if (served && served.child.exitCode === null) {
    const exited = new Promise((r) => served!.child.once("exit", r));
    served.child.kill("SIGTERM");
    await exited;
  }
  await closeNodeDir();
  tmp.remove();
});

const base = { accession: "ACC0", principal: "RIS-0042" };

test("an ORU stream P, F, C becomes a report that `radledger query report` attributes to the radiologist, entered by the RIS", async () => {
  expect(
    await send(
      oruMessage({
        ...base,
        id: "P-1",
        status: "P",
        technician: "tech-7",
        obx: [
          ["55111-9^Procedure^LN", "CT head without contrast."],
          ["18782-3^Findings^LN", "No acute intracranial abnormality."],
        ],
      }),
    ),
  ).toEqual(["AA", "P-1", "OK"]);
  expect((await send(oruMessage({ ...base, id: "F-1", status: "F" })))[0]).toBe("AA");
  expect(
    (
      await send(
        oruMessage({ ...base, id: "C-1", status: "C", obx: [["18782-3^Findings^LN", "Corrected."]] }),
      )
    )[0],
  ).toBe("AA");

  const log = openReadOnly(dataDir);
  let id: string;
  try {
    const all = log.store.lookup("report.all", "", { limit: 10 });
    id = all[0]!.value;
    const r = reportView(log.store, id);
    expect(r.sections.map((s) => [s.section, s.author, s.enteredBy])).toEqual([
      ["technique", "tech-7", "ris-main"],
      ["findings", "rad-att", "ris-main"],
      ["findings", "rad-att", "ris-main"],
    ]);
    expect(r.signOff).toMatchObject({ by: "rad-att", enteredBy: "ris-main" });
    expect(r.amendments).toHaveLength(1);
  } finally {
    log.close();
  }
  const q = await runCli(["query", "report", id, "--data", dataDir]);
  expect(q.code, q.stderr).toBe(0);
  expect(q.stdout).toMatch(
    /findings\s+rad-att \(Dr Attending\), radiologist, neuroradiology, entered by ris-main \(Main RIS\) on their behalf/,
  );
  expect(q.stdout).toMatch(
    /technique\s+tech-7 \(Tech Seven\), technologist, entered by ris-main \(Main RIS\) on their behalf/,
  );
  expect(q.stdout).toMatch(
    /signed \S+ by rad-att \(Dr Attending\), entered by ris-main on their behalf, final/,
  );
  expect(q.stdout).toMatch(/amendment \S+ findings by rad-att \(entered by ris-main\), reason correction/);
}, 60_000);

test("refusals: AE or AR naming the code, nothing recorded, the node keeps serving", async () => {
  const size = logSize();
  expect(await send(oruMessage({ ...base, id: "U-1", status: "P", accession: "ACC-NOPE" }))).toEqual([
    "AE",
    "U-1",
    expect.stringMatching(/^HL7_STUDY_UNKNOWN: /),
  ]);
  expect(
    (
      await send(oruMessage({ ...base, id: "U-2", status: "P", accession: "ACC1", principal: "RIS-9999" }))
    )[2],
  ).toMatch(/^HL7_CLINICIAN_UNKNOWN: /);
  expect((await send(oruMessage({ ...base, id: "U-3", status: "P", version: "2.8" })))[0]).toBe("AR");
  expect((await send(oruMessage({ ...base, id: "U-4", status: "P", type: "ORM^O01" })))[2]).toMatch(
    /^HL7_MESSAGE_UNSUPPORTED: /,
  );
  // Broken framing on raw sockets: a NAK where a reply can go, then that connection is closed.
  expect(acks(await raw(Buffer.from("GET / HTTP/1.1\r\n\r\n")))).toEqual([
    ["AR", expect.stringMatching(/^HL7_MESSAGE_MALFORMED: MLLP: bytes outside a frame/)],
  ]);
  expect(acks(await raw(frame("not hl7 at all")))).toEqual([
    ["AR", expect.stringMatching(/^HL7_MESSAGE_MALFORMED: /)],
  ]);
  expect(acks(await raw(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(1024 * 1024 + 16, 0x41)])))).toEqual(
    [["AR", expect.stringMatching(/^HL7_MESSAGE_TOO_LARGE: /)]],
  );
  expect(await raw(Buffer.from("\x0bMSH|^~\\&|RIS|cut short"))).toBe("");
  expect(logSize()).toBe(size);
  // Still serving: a good message on a new connection is recorded.
  expect((await send(oruMessage({ ...base, id: "OK-1", status: "P", accession: "ACC1" })))[0]).toBe("AA");
  expect(logSize()).toBe(size + 2);
}, 60_000);

test("the same MSH-10 twice: the same ACK, nothing recorded twice", async () => {
  const msg = oruMessage({ ...base, id: "D-1", status: "P", accession: "ACC2" });
  const first = await client.sendAndWait(Hl7Message.parse(msg));
  const size = logSize();
  const second = await client.sendAndWait(Hl7Message.parse(msg));
  expect(second.toString()).toBe(first.toString());
  expect(logSize()).toBe(size);
}, 60_000);

test("a burst of 10,000 ORU messages over one connection: every one acknowledged AA and recorded", async () => {
  const N = 10_000;
  const size = logSize();
  const studies = STUDIES - 3; // ACC3 … ACC20: reports opened by the burst
  const frames = Array.from({ length: N }, (_, i) =>
    frame(
      oruMessage({
        id: `B-${i}`,
        status: "P",
        accession: `ACC${3 + (i % studies)}`,
        principal: "RIS-0042",
        obx: [["18782-3^Findings^LN", `Synthetic finding ${i}.`]],
      }),
    ),
  );
  const started = performance.now();
  const answered = await raw(Buffer.concat(frames), 300_000);
  const seconds = (performance.now() - started) / 1000;
  const codes = acks(answered);
  expect(codes).toHaveLength(N);
  expect(codes.filter(([c]) => c === "AA")).toHaveLength(N);
  // One contribution per message, and one report.opened per study.
  expect(logSize()).toBe(size + N + studies);
  console.log(`mllp burst: ${N} ORU^R01 in ${seconds.toFixed(1)} s = ${Math.round(N / seconds)} msgs/s`);
}, 360_000);
