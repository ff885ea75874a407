/**
 * TLS material from files for `radledger serve` (--tls-cert, --tls-key, --tls-client-ca) and
 * `radledger token bind-cert --cert`: PEM read and checked before anything listens, so a missing,
 * unreadable or mismatched file is one coded error (TLS_CONFIG_INVALID, exit 2) naming the option,
 * never a stack trace from deep inside the TLS stack at the first handshake.
 */
import { readFileSync } from "node:fs";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import type { SecureContextOptions, TlsOptions } from "node:tls";
import { RadledgerError } from "../core/errors.js";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** CA bundle (PEM) that client certificates must chain to: turns on mutual TLS. */
  readonly clientCa?: string | undefined;
}

function invalid(option: string, file: string, why: string): RadledgerError {
  return new RadledgerError("TLS_CONFIG_INVALID", `${option} ${file}: ${why}`, { at: option });
}

function readPem(option: string, file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw invalid(
      option,
      file,
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "not readable"
          : `cannot be read (${code ?? "error"})`,
    );
  }
  if (!bytes.includes("-----BEGIN ")) throw invalid(option, file, "not a PEM file");
  return bytes;
}

/** Every certificate of a PEM bundle, in order; TLS_CONFIG_INVALID when there is none or one is malformed. */
export function readCertificates(option: string, file: string): X509Certificate[] {
  const pem = readPem(option, file).toString("latin1");
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalid(option, file, "holds no PEM certificate");
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw invalid(option, file, "holds a malformed certificate");
    }
  });
}

function readKey(option: string, file: string): { pem: Buffer; key: KeyObject } {
  const pem = readPem(option, file);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch {
    // An encrypted key would need a passphrase the node has no way to be given: say so too.
    throw invalid(option, file, "not an unencrypted PEM private key");
  }
}

/**
 * The options of Node's HTTPS server from the files: the certificate chain and its key (checked to
 * match), TLS 1.2 at least (RFC 9325 §3.1.1: TLS 1.3 SHOULD, 1.2 MUST be supported; TLS 1.0/1.1 MUST
 * NOT, RFC 8996), and with a client CA the mutual TLS request that does not refuse clients without a
 * certificate (they authenticate by bearer token; src/api/client-cert.ts).
 */
export function loadTlsOptions(files: TlsFiles): TlsOptions & SecureContextOptions {
  const chain = readCertificates("--tls-cert", files.cert);
  const { pem: keyPem, key } = readKey("--tls-key", files.key);
  if (!chain[0]!.checkPrivateKey(key))
    throw new RadledgerError(
      "TLS_CONFIG_INVALID",
      `--tls-key ${files.key} is not the key of the certificate in --tls-cert ${files.cert}`,
      { at: "--tls-key" },
    );
  const now = Date.now();
  if (Date.parse(chain[0]!.validTo) < now)
    throw invalid(
      "--tls-cert",
      files.cert,
      `the certificate expired at ${new Date(chain[0]!.validTo).toISOString()}`,
    );
  const options: TlsOptions & SecureContextOptions = {
    cert: readPem("--tls-cert", files.cert),
    key: keyPem,
    // Node negotiates the highest version both sides offer, so a TLS 1.3 client gets TLS 1.3.
    minVersion: "TLSv1.2",
  };
  if (files.clientCa === undefined) return options;
  readCertificates("--tls-client-ca", files.clientCa);
  return {
    ...options,
    ca: readPem("--tls-client-ca", files.clientCa),
    requestCert: true,
    // Checked per request (socket.authorized): a person without a certificate still connects.
    rejectUnauthorized: false,
  };
}
