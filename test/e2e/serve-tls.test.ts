/**
 * `radledger serve` over TLS, as an operator runs it (docs/operations.md): HTTPS with HSTS, the plain
 * HTTP redirect port (308), coded refusals of bad certificate files, and mutual TLS for system
 * actors — a client certificate whose key an admin bound to a system actor (`radledger token
 * bind-cert`, on the log as cert.bound) authenticates as that actor; an unbound or untrusted one gets
 * a coded 401; a person's actor cannot be bound; bearer tokens keep working beside it.
 *
 * Throwaway certificates are made with openssl in a temporary directory at test time (a CA, a server
 * certificate for 127.0.0.1 by subjectAltName IP, client certificates, a rogue CA); no key is
 * committed.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CLI, runCli } from "../helpers/cli.js";
import { makeNode, tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-serve-tls-");
const file = (name: string): string => join(tmp.path, name);
let dataDir = "";
let closeNodeDir = async (): Promise<void> => undefined;
let adminToken = "";
let binding = { id: "", index: -1, pin: "" };
let served: Served | undefined;

interface Served {
  readonly https: string;
  readonly redirect: string;
  readonly child: ChildProcess;
  /** Resolves once the node's stderr (from now on) contains `text`. */
  stderrSays(text: string): Promise<void>;
}

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA (self-signed, P-256) named `name`. */
function makeCa(name: string): void {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file(`${name}.key`));
  openssl(
    ...["req", "-x509", "-new", "-key", file(`${name}.key`), "-sha256", "-days", "2"],
    ...["-subj", `/CN=${name}`, "-out", file(`${name}.pem`)],
  );
}

/** A leaf certificate `name` signed by CA `ca`, with the given extensions (an openssl config section). */
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

/** RFC 7469 pin of a certificate computed by openssl alone (pubkey → DER → SHA-256 → base64). */
function opensslPin(cert: string): string {
  const pub = execFileSync("openssl", ["x509", "-in", file(cert), "-pubkey", "-noout"]);
  const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub });
  return execFileSync("openssl", ["dgst", "-sha256", "-binary"], { input: der }).toString("base64");
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly protocol?: string | null;
  /** The server certificate's serial number (HTTPS only). */
  readonly peerSerial?: string;
}

/** One HTTPS request trusting our CA, optionally presenting a client certificate. */
function https(path: string, o: { client?: string; token?: string; method?: string } = {}): Promise<Answer> {
  const url = new URL(path, served!.https);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: o.method ?? "GET",
        ca: readFileSync(file("ca.pem")),
        agent: false,
        ...(o.client === undefined
          ? {}
          : { cert: readFileSync(file(`${o.client}.pem`)), key: readFileSync(file(`${o.client}.key`)) }),
        headers: o.token === undefined ? {} : { authorization: `Bearer ${o.token}` },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          resolve({
            peerSerial: res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().serialNumber : "",
            status: res.statusCode!,
            headers: res.headers,
            body,
            protocol: res.socket instanceof TLSSocket ? res.socket.getProtocol() : null,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function plainHttp(url: string, method = "GET", body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Starts `radledger serve` with TLS options; resolves once it prints its HTTPS and redirect URLs. */
function startTlsServe(extra: readonly string[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "serve", "--data", dataDir, "--port", "0", ...extra], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const h = /at (https:\/\/[^\s]+)/.exec(out);
      const r = /redirects to HTTPS at (http:\/\/[^\s]+)/.exec(out);
      if (h && r)
        resolve({
          https: h[1]!,
          redirect: r[1]!,
          child,
          stderrSays: (text) =>
            new Promise<void>((done) => {
              const from = err.length;
              const check = (): void => {
                if (!err.slice(from).includes(text)) return;
                child.stderr.off("data", check);
                done();
              };
              child.stderr.on("data", check);
            }),
        });
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

const TLS = () => ["--tls-cert", file("server.pem"), "--tls-key", file("server.key")];

beforeAll(async () => {
  makeCa("ca");
  makeCa("rogue-ca");
  makeLeaf(
    "server",
    "ca",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  makeLeaf("pacs", "ca", CLIENT_EXT);
  makeLeaf("unbound", "ca", CLIENT_EXT);
  makeLeaf("person", "ca", CLIENT_EXT);
  makeLeaf("rogue", "rogue-ca", CLIENT_EXT);
  writeFileSync(file("not-pem.txt"), "this is not a certificate\n");

  const t = await makeNode();
  dataDir = t.dir;
  await t.enrol("pacs-main", ["integration"], { kind: "system" });
  await t.enrol("dr-house", ["radiologist"]);
  await t.node.close(); // the directory stays: the command line and `radledger serve` open it next
  closeNodeDir = () => t.close();

  const created = await runCli(["token", "create", "--data", dataDir, "--actor", "admin", "--json"]);
  expect(created.code, created.stderr).toBe(0);
  adminToken = (JSON.parse(created.stdout) as { token: string }).token;
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
  binding = JSON.parse(bound.stdout) as typeof binding;
  served = await startTlsServe([
    ...TLS(),
    ...["--tls-client-ca", file("ca.pem"), "--http-redirect-port", "0"],
  ]);
}, 120_000);

afterAll(async () => {
  const child = served?.child;
  if (child && child.exitCode === null)
    await new Promise<void>((done) => {
      child.once("exit", () => done());
      child.kill("SIGTERM");
    });
  await closeNodeDir();
  tmp.remove();
});

test("HTTPS answers with TLS 1.3 and every response carries Strict-Transport-Security", async () => {
  const ok = await https("/healthz");
  expect(ok.status).toBe(200);
  expect(ok.protocol).toBe("TLSv1.3");
  expect(ok.headers["strict-transport-security"]).toBe("max-age=31536000");
  const notFound = await https("/no-such-thing");
  expect(notFound.status).toBe(404);
  expect(notFound.headers["strict-transport-security"]).toBe("max-age=31536000");
});

test("the redirect port answers every request with 308 to the https:// URL (same host, path, query), no content", async () => {
  const port = new URL(served!.https).port;
  const get = await plainHttp(`${served!.redirect}/api/v1/log/entries/3?x=1&y=%2F`);
  expect(get.status).toBe(308);
  expect(get.headers.location).toBe(`https://127.0.0.1:${port}/api/v1/log/entries/3?x=1&y=%2F`);
  expect(get.body).toBe("");
  expect(get.headers["strict-transport-security"]).toBeUndefined(); // RFC 6797 §7.2: never over HTTP
  const post = await plainHttp(`${served!.redirect}/api/v1/auth/login`, "POST", '{"actor":"admin"}');
  expect(post.status).toBe(308);
  expect(post.headers.location).toBe(`https://127.0.0.1:${port}/api/v1/auth/login`);
  expect(post.body).toBe("");
});

test("a bound system actor's client certificate authenticates as that actor (pin = openssl's RFC 7469 pin)", async () => {
  const me = await https("/api/v1/auth/me", { client: "pacs" });
  expect(me.status, me.body).toBe(200);
  const body = JSON.parse(me.body) as { actor: { id: string }; certificate: string; token?: unknown };
  expect(body.actor.id).toBe("pacs-main");
  expect(body.certificate).toBe(opensslPin("pacs.pem"));
  expect(body.token).toBeUndefined();
});

test("the binding is on the log: cert.bound signed by the institution, naming the pin, actor and who bound it", async () => {
  const r = await https(`/api/v1/log/entries/${binding.index}`, { token: adminToken });
  expect(r.status, r.body).toBe(200);
  const entry = JSON.stringify(JSON.parse(r.body));
  for (const part of [
    '"type":"cert.bound"',
    '"actor":"institution"',
    `"pin":"${binding.pin}"`,
    '"actorId":"pacs-main"',
    '"boundBy":"institution"',
  ])
    expect(entry).toContain(part);
  expect(binding.id).toMatch(/^[0-9a-f]{64}$/);
  // Re-binding the same key is refused as a conflict naming the actor it is bound to.
  const again = await runCli([
    "token",
    "bind-cert",
    "--data",
    dataDir,
    "--actor",
    "pacs-main",
    "--cert",
    file("pacs.pem"),
  ]);
  expect(again.stderr).toContain("CERT_BINDING_CONFLICT");
  expect(again.stderr).toContain("pacs-main");
  expect(again.code).toBe(4);
});

test("a verified but unbound certificate gets 401 AUTH_CERT_UNBOUND as problem+json", async () => {
  const r = await https("/api/v1/auth/me", { client: "unbound" });
  expect(r.status).toBe(401);
  expect(r.headers["content-type"]).toContain("application/problem+json");
  expect((JSON.parse(r.body) as { code: string }).code).toBe("AUTH_CERT_UNBOUND");
});

test("a certificate from another CA gets 401 AUTH_CERT_UNTRUSTED", async () => {
  const r = await https("/api/v1/auth/me", { client: "rogue" });
  expect(r.status).toBe(401);
  expect((JSON.parse(r.body) as { code: string }).code).toBe("AUTH_CERT_UNTRUSTED");
});

test("a person's actor cannot be bound to a certificate (CERT_NOT_BINDABLE), and stays unbound", async () => {
  const r = await runCli([
    "token",
    "bind-cert",
    "--data",
    dataDir,
    "--actor",
    "dr-house",
    "--cert",
    file("person.pem"),
  ]);
  expect(r.stderr).toContain("CERT_NOT_BINDABLE");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(6);
  const me = await https("/api/v1/auth/me", { client: "person" });
  expect((JSON.parse(me.body) as { code: string }).code).toBe("AUTH_CERT_UNBOUND");
});

test("bearer tokens still work over the same TLS listener, with or without a client certificate", async () => {
  const plain = await https("/api/v1/auth/me", { token: adminToken });
  expect(plain.status, plain.body).toBe(200);
  expect((JSON.parse(plain.body) as { actor: { id: string } }).actor.id).toBe("admin");
  // The token decides when both are presented.
  const both = await https("/api/v1/auth/me", { token: adminToken, client: "pacs" });
  expect((JSON.parse(both.body) as { actor: { id: string } }).actor.id).toBe("admin");
  const none = await https("/api/v1/auth/me");
  expect(none.status).toBe(401);
  expect((JSON.parse(none.body) as { code: string }).code).toBe("AUTH_REQUIRED");
});

test("unbinding takes effect at once: the certificate then gets AUTH_CERT_UNBOUND", async () => {
  makeLeaf("retired", "ca", CLIENT_EXT);
  const bind = await runCli([
    "token",
    "bind-cert",
    "--data",
    dataDir,
    "--actor",
    "pacs-main",
    "--cert",
    file("retired.pem"),
  ]);
  expect(bind.code, bind.stderr).toBe(0); // through the running server's local socket
  expect((await https("/api/v1/auth/me", { client: "retired" })).status).toBe(200);
  const unbind = await runCli(["token", "unbind-cert", "--data", dataDir, "--cert", file("retired.pem")]);
  expect(unbind.code, unbind.stderr).toBe(0);
  const after = await https("/api/v1/auth/me", { client: "retired" });
  expect((JSON.parse(after.body) as { code: string }).code).toBe("AUTH_CERT_UNBOUND");
});

test("SIGHUP reloads the TLS certificate for new connections; files that do not load keep the current one", async () => {
  const serial = (name: string): string =>
    execFileSync("openssl", ["x509", "-in", file(name), "-noout", "-serial"])
      .toString()
      .trim()
      .split("=")[1]!;
  expect((await https("/healthz")).peerSerial).toBe(serial("server.pem"));
  // A broken key file: the node keeps serving the certificate it has, and says why.
  writeFileSync(file("server.key"), "garbage\n");
  let said = served!.stderrSays("TLS certificate kept: TLS_CONFIG_INVALID");
  served!.child.kill("SIGHUP");
  await said;
  expect((await https("/healthz")).peerSerial).toBe(serial("server.pem"));
  // A renewed certificate (new key, same name): new connections get it.
  makeLeaf(
    "renewed",
    "ca",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  writeFileSync(file("server.pem"), readFileSync(file("renewed.pem")));
  writeFileSync(file("server.key"), readFileSync(file("renewed.key")));
  said = served!.stderrSays("TLS certificate reloaded");
  served!.child.kill("SIGHUP");
  await said;
  const after = await https("/healthz");
  expect(after.status).toBe(200);
  expect(after.peerSerial).toBe(serial("renewed.pem"));
});

test.each([
  [
    "a key that is not the certificate's",
    ["--tls-cert", "server.pem", "--tls-key", "pacs.key"],
    "is not the key of the certificate",
  ],
  ["a missing key file", ["--tls-cert", "server.pem", "--tls-key", "nope.key"], "no such file"],
  [
    "a certificate file that is not PEM",
    ["--tls-cert", "not-pem.txt", "--tls-key", "server.key"],
    "not a PEM file",
  ],
  [
    "a key file given as the certificate",
    ["--tls-cert", "server.key", "--tls-key", "server.key"],
    "holds no PEM certificate",
  ],
  [
    "a client CA that is not PEM",
    ["--tls-cert", "server.pem", "--tls-key", "server.key", "--tls-client-ca", "not-pem.txt"],
    "not a PEM file",
  ],
])("serve with %s exits with TLS_CONFIG_INVALID (exit 2), no stack", async (_what, args, message) => {
  const withPaths = args.map((a) => (a.startsWith("--") ? a : file(a)));
  const r = await runCli(["serve", "--data", dataDir, "--port", "0", ...withPaths]);
  expect(r.stderr).toContain("radledger: TLS_CONFIG_INVALID:");
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(2);
});
