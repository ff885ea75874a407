/**
 * Mutual TLS for system actors (docs/operations.md "Mutual TLS for system actors"). With
 * `radledger serve --tls-client-ca`, the TLS server asks every client for a certificate
 * (requestCert) but does not refuse the handshake without one (rejectUnauthorized false), so people
 * with bearer tokens still connect; each request then decides here whether the certificate the
 * connection presented authenticates an actor: it must verify against the configured CA
 * (`socket.authorized`, checked by Node's TLS stack) and its key must be bound, on the log
 * (cert.bound), to an active system actor.
 *
 * The binding names the key, not the certificate: the RFC 7469 §2.4 pin, base64 of the SHA-256 of
 * the certificate's DER SubjectPublicKeyInfo. A certificate renewed for the same key keeps working;
 * a new key needs a new binding, which an admin makes and the log records.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { FastifyRequest } from "fastify";
import { RadledgerError } from "../core/errors.js";

/** RFC 7469 pin-sha256 of a certificate: base64 SHA-256 of its DER SubjectPublicKeyInfo. */
export function spkiPin(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/** What a certificate file says about itself, for a binding (the pin decides; the rest is informative). */
export interface CertificateFacts {
  readonly pin: string;
  /** The subject distinguished name on one line, cut to 200 characters. */
  readonly subject: string;
  /** The end of validity as RFC 3339 UTC with milliseconds. */
  readonly notAfter: string;
}

export function certificateFacts(cert: X509Certificate): CertificateFacts {
  return {
    pin: spkiPin(cert),
    subject: cert.subject.replace(/\s*\n\s*/g, ", ").slice(0, 200),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/** The request's TLS socket, when it came over TLS. */
function tlsSocket(req: FastifyRequest): TLSSocket | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  return socket.encrypted === true ? (socket as TLSSocket) : undefined;
}

/**
 * The pin of the client certificate this request's connection presented, or undefined when it
 * presented none (or did not come over TLS). A certificate that does not verify against the
 * configured client CA is AUTH_CERT_UNTRUSTED: it authenticates nobody, and saying so beats a
 * silent fall-through to "no credentials".
 */
export function clientCertificatePin(req: FastifyRequest): string | undefined {
  const socket = tlsSocket(req);
  if (!socket) return undefined;
  // Node answers an empty object when the client sent no certificate.
  const peer = socket.getPeerCertificate() as Partial<PeerCertificate>;
  if (peer.raw === undefined) return undefined;
  if (!socket.authorized)
    throw new RadledgerError(
      "AUTH_CERT_UNTRUSTED",
      `the client certificate does not verify against the node's client CA (${String(socket.authorizationError)})`,
    );
  return spkiPin(new X509Certificate(peer.raw));
}
