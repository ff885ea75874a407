/**
 * The syslog receivers of IHE ATNA (docs/audit.md): TLS (RFC 5425; IANA port 6514, mutual TLS),
 * plain TCP with octet-counting framing (RFC 6587 §3.4.1) and UDP, one message per datagram
 * (RFC 5426 §3.1). Messages up to 64 KiB.
 *
 * The receivers only move bytes: each parses the frames into RFC 5424 messages and hands them to a
 * handler (the node's audit intake, src/app/audit-intake.ts, joined to them in src/wiring/syslog.ts),
 * which decides who the sender is and what becomes of each message. Nothing a sender does stops a
 * receiver: a message that does not parse is refused and counted and the connection goes on; a
 * frame that breaks the stream (no length, too long, cut short) is counted and that connection
 * closed, as nothing can find the next frame in it; a sender the handler does not know is counted
 * and disconnected. Syslog has no replies (RFC 5424 §8.1 transport is one-way), so a refusal is
 * visible only in the node's metrics and, with `log`, one line on standard error per refusal.
 */
import { createHash, X509Certificate } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from "node:tls";
import { RadledgerError, toRadledgerError } from "../../core/errors.js";
import { MAX_SYSLOG_MESSAGE, OctetCountingDecoder, parseSyslog, type SyslogMessage } from "./rfc5424.js";

export type SyslogTransport = "syslog-tls" | "syslog-tcp" | "syslog-udp";

export interface SyslogPeer {
  readonly transport: SyslogTransport;
  readonly address: string;
  /** RFC 7469 pin-sha256 of the verified client certificate (TLS only). */
  readonly pin?: string;
}

/** What the receivers hand messages to (the audit intake has this shape). */
export interface SyslogHandler {
  /** The actor a peer speaks for; throws a coded error (AUDIT_SOURCE_UNKNOWN) when none. */
  identify(peer: SyslogPeer): string;
  /** One message: its parsed form's MSG (the audit XML) and the whole message as received. */
  receive(actor: string, peer: SyslogPeer, msg: string, raw: string): Promise<unknown>;
  /** Counts a refusal before a message reached receive() (framing, size, syntax, unknown sender). */
  refused(transport: SyslogTransport, error: unknown): void;
}

export interface SyslogReceiverOptions {
  readonly host: string;
  readonly port: number;
  /** One line per refusal on this stream (the operator's `--log`). */
  readonly log?: (line: string) => void;
}

export interface TlsReceiverOptions extends SyslogReceiverOptions {
  /** The server certificate and key, and the CA client certificates must chain to (mutual TLS). */
  readonly tls: SecureContextOptions & { readonly ca: string | Buffer };
}

export interface SyslogReceiver {
  readonly transport: SyslogTransport;
  /** host:port it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/** Per connection: messages handed over and not yet settled before the socket is paused. */
const HIGH_WATER = 512;
const LOW_WATER = 128;

function pinOf(raw: Buffer): string {
  const spki = new X509Certificate(raw).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

function describe(e: unknown): string {
  const err = toRadledgerError(e);
  return `${err.code}: ${err.message}`;
}

/** One message off the wire: parse, then hand over; every outcome is counted (by the handler). */
function deliver(handler: SyslogHandler, actor: string, peer: SyslogPeer, bytes: Uint8Array): Promise<void> {
  let parsed: SyslogMessage;
  try {
    parsed = parseSyslog(bytes);
  } catch (e) {
    handler.refused(peer.transport, e);
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  return handler
    .receive(
      actor,
      peer,
      parsed.msg,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
    )
    .then(() => undefined);
}

/** Reads octet-counted frames off a connection (TCP or TLS) once its sender is identified. */
function serveConnection(
  socket: Socket,
  peer: SyslogPeer,
  handler: SyslogHandler,
  log: ((line: string) => void) | undefined,
): void {
  const refuse = (e: unknown): void => log?.(`radledger: ${peer.transport} ${peer.address}: ${describe(e)}`);
  let actor: string;
  try {
    actor = handler.identify(peer);
  } catch (e) {
    handler.refused(peer.transport, e);
    refuse(e);
    socket.destroy();
    return;
  }
  const decoder = new OctetCountingDecoder();
  let inFlight = 0;
  let broken = false;
  socket.on("data", (chunk: Buffer) => {
    if (broken) return;
    let frames: Uint8Array[];
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      // The stream cannot be resynchronised: count it and close this connection only.
      broken = true;
      handler.refused(peer.transport, e);
      refuse(e);
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      inFlight++;
      deliver(handler, actor, peer, frame)
        .catch(refuse)
        .finally(() => {
          inFlight--;
          if (inFlight <= LOW_WATER && socket.isPaused() && !broken) socket.resume();
        });
    }
    // Backpressure: a sender faster than the log stops being read (TCP then slows it down) rather
    // than filling the node's memory.
    if (inFlight >= HIGH_WATER) socket.pause();
  });
  socket.on("end", () => {
    if (broken) return;
    try {
      decoder.end();
    } catch (e) {
      handler.refused(peer.transport, e);
      refuse(e);
    }
  });
  socket.on("error", () => undefined); // a reset by the peer; nothing to do but let it close
  socket.setTimeout(10 * 60_000, () => socket.destroy());
}

function listening(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address() as AddressInfo;
      resolve(`${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}

function closing(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.end();
  });
}

/** Plain TCP, RFC 6587 octet counting. Senders are identified by address alone (docs/audit.md). */
export async function listenSyslogTcp(
  handler: SyslogHandler,
  o: SyslogReceiverOptions,
): Promise<SyslogReceiver> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveConnection(socket, { transport: "syslog-tcp", address: socket.remoteAddress ?? "" }, handler, o.log);
  });
  const address = await listening(server, o.host, o.port);
  return { transport: "syslog-tcp", address, close: () => closing(server, sockets) };
}

/**
 * TLS, RFC 5425: mutual TLS is required — a client certificate verified against the configured CA
 * (the handshake fails without one); the certificate's key pin then names the system actor.
 */
export async function listenSyslogTls(
  handler: SyslogHandler,
  o: TlsReceiverOptions,
): Promise<SyslogReceiver> {
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    { ...o.tls, requestCert: true, rejectUnauthorized: true },
    (socket: TLSSocket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      serveConnection(
        socket,
        {
          transport: "syslog-tls",
          address: socket.remoteAddress ?? "",
          ...(raw === undefined ? {} : { pin: pinOf(raw) }),
        },
        handler,
        o.log,
      );
    },
  );
  // A handshake refused (no certificate, one from another CA, not TLS at all): counted, no crash.
  server.on("tlsClientError", (e, socket) => {
    const err = new RadledgerError(
      "AUDIT_SOURCE_UNKNOWN",
      `TLS handshake refused: ${e.message.slice(0, 120)} (a client certificate from the configured CA is required)`,
    );
    handler.refused("syslog-tls", err);
    o.log?.(`radledger: syslog-tls ${socket.remoteAddress ?? ""}: ${describe(err)}`);
  });
  const address = await listening(server, o.host, o.port);
  return { transport: "syslog-tls", address, close: () => closing(server, sockets) };
}

/** UDP, RFC 5426: one message per datagram, senders identified by address alone. */
export async function listenSyslogUdp(
  handler: SyslogHandler,
  o: SyslogReceiverOptions,
): Promise<SyslogReceiver> {
  const socket: UdpSocket = createSocket({ type: o.host.includes(":") ? "udp6" : "udp4" });
  // RFC 5426 §3.2 lets receivers take up to 65,535 octets; the kernel's default buffer may be far
  // smaller, and a burst then loses datagrams before Node sees them.
  const refuse = (peer: SyslogPeer, e: unknown): void =>
    o.log?.(`radledger: syslog-udp ${peer.address}: ${describe(e)}`);
  socket.on("message", (msg, rinfo) => {
    const peer: SyslogPeer = { transport: "syslog-udp", address: rinfo.address };
    let actor: string;
    try {
      if (msg.length > MAX_SYSLOG_MESSAGE)
        throw new RadledgerError(
          "AUDIT_MESSAGE_TOO_LARGE",
          `syslog: the datagram exceeds ${MAX_SYSLOG_MESSAGE} octets`,
        );
      actor = handler.identify(peer);
    } catch (e) {
      handler.refused("syslog-udp", e);
      refuse(peer, e);
      return;
    }
    deliver(handler, actor, peer, msg).catch((e: unknown) => refuse(peer, e));
  });
  socket.on("error", () => undefined);
  const address = await new Promise<string>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(o.port, o.host, () => {
      socket.off("error", reject);
      try {
        socket.setRecvBufferSize(8 * 1024 * 1024);
      } catch {
        // the system's maximum is lower: keep its default
      }
      const a = socket.address();
      resolve(`${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
  return {
    transport: "syslog-udp",
    address,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
