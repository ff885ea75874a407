/**
 * An MLLP listener (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5.1 Implementation Guide C.4.3):
 * each message framed as <VT> message <FS><CR>, each answered by one framed ACK, in order, on the
 * same connection (original acknowledgement mode). Messages up to 1 MiB.
 *
 * Why not @medplum/hl7's Hl7Server (its Hl7Client is what the tests send with): in 4.5.2 it binds
 * every interface (no host), retries forever when the port is taken, has no size limit, and treats
 * a TCP read that ends in <FS><CR> as one message — two frames that arrive in one read (a sender
 * that does not wait for each ACK, or Nagle) become one broken message. The framing here is those
 * three bytes; the message itself is parsed by @medplum/core's Hl7Message in the handler.
 *
 * The listener only moves bytes: the handler (the RIS intake, src/app/ris-intake, joined to it in
 * src/wiring/mllp.ts) decides who the sender is and what each message becomes. Nothing a sender
 * does stops the listener: bytes outside a frame, a frame over the limit or a connection cut in a
 * frame get a NAK (AR) where a reply can still go, are counted, and close that connection only.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { RadledgerError, toRadledgerError } from "../../core/errors.js";

export const MAX_MLLP_MESSAGE = 1024 * 1024;
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** What the listener hands messages to (the RIS intake has this shape). */
export interface MllpHandler {
  /** The actor a sender's address speaks for; throws a coded error (HL7_SOURCE_UNKNOWN) when none. */
  identify(address: string): string;
  /** One message's text; resolves with the ACK to send. Never rejects. */
  receive(actor: string, text: string): Promise<{ ack: string }>;
  /** The NAK for a refusal before a message could be read; `text` is what was received, if any. */
  nak(error: RadledgerError, text?: string): string;
  /** Counts a refusal before a message reached receive() (framing, size, unknown sender). */
  refused(error: unknown): void;
}

export interface MllpListenerOptions {
  readonly host: string;
  readonly port: number;
  /** One line per refusal (the operator's `--log`). */
  readonly log?: (line: string) => void;
}

export interface MllpListener {
  /** host:port it listens on. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Per connection: messages handed over and not yet answered before the socket is paused. */
const HIGH_WATER = 256;
const LOW_WATER = 64;

/** Splits a byte stream into MLLP frames; throws HL7_MESSAGE_MALFORMED / HL7_MESSAGE_TOO_LARGE. */
export class MllpDecoder {
  #buffer: Buffer = Buffer.alloc(0);
  #inFrame = false;

  /** The complete frames' contents in `chunk` (with what came before). */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      if (!this.#inFrame) {
        // Between frames only line ends are tolerated (some senders add one after <FS><CR>).
        let i = 0;
        while (i < this.#buffer.length && (this.#buffer[i] === CR || this.#buffer[i] === 0x0a)) i++;
        this.#buffer = this.#buffer.subarray(i);
        if (this.#buffer.length === 0) return frames;
        if (this.#buffer[0] !== VT)
          throw new RadledgerError(
            "HL7_MESSAGE_MALFORMED",
            "MLLP: bytes outside a frame (no <VT> start block)",
          );
        this.#buffer = this.#buffer.subarray(1);
        this.#inFrame = true;
      }
      const end = this.#buffer.indexOf(FS);
      if (end < 0 || end + 1 >= this.#buffer.length) {
        if (this.#buffer.length > MAX_MLLP_MESSAGE + 1)
          throw new RadledgerError("HL7_MESSAGE_TOO_LARGE", `MLLP: a message over ${MAX_MLLP_MESSAGE} bytes`);
        return frames;
      }
      if (this.#buffer[end + 1] !== CR)
        throw new RadledgerError("HL7_MESSAGE_MALFORMED", "MLLP: <FS> not followed by <CR>");
      const body = this.#buffer.subarray(0, end);
      if (body.includes(VT))
        throw new RadledgerError("HL7_MESSAGE_MALFORMED", "MLLP: a <VT> start block inside a frame");
      if (body.length > MAX_MLLP_MESSAGE)
        throw new RadledgerError("HL7_MESSAGE_TOO_LARGE", `MLLP: a message over ${MAX_MLLP_MESSAGE} bytes`);
      frames.push(Buffer.from(body));
      this.#buffer = this.#buffer.subarray(end + 2);
      this.#inFrame = false;
    }
  }

  /** Whether the stream stopped inside a frame. */
  get partial(): boolean {
    return this.#inFrame;
  }
}

/** A frame's text: UTF-8 when it is valid UTF-8, else ISO 8859-1 (HL7's MSH-18 default charsets). */
function textOf(bytes: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}

const framed = (text: string): Buffer =>
  Buffer.concat([Buffer.from([VT]), Buffer.from(text, "utf8"), Buffer.from([FS, CR])]);

function serveConnection(socket: Socket, handler: MllpHandler, log?: (line: string) => void): void {
  const address = socket.remoteAddress ?? "";
  const refuse = (e: unknown): void => {
    const err = toRadledgerError(e);
    log?.(`radledger: mllp ${address}: ${err.code}: ${err.message}`);
  };
  socket.on("error", () => undefined);
  let actor: string | undefined;
  let unknown: RadledgerError | undefined;
  try {
    actor = handler.identify(address);
  } catch (e) {
    unknown = toRadledgerError(e);
    handler.refused(unknown);
    refuse(unknown);
  }
  const decoder = new MllpDecoder();
  let replies: Promise<unknown> = Promise.resolve();
  let inFlight = 0;
  let broken = false;
  const send = (text: string): void => {
    if (!socket.destroyed) socket.write(framed(text));
  };
  const breakWith = (e: unknown): void => {
    // The stream cannot be resynchronised: answer what came before, then a NAK, then close.
    broken = true;
    const err = toRadledgerError(e);
    handler.refused(err);
    refuse(err);
    replies = replies.then(() => {
      send(handler.nak(err));
      socket.end();
    });
  };
  socket.on("data", (chunk: Buffer) => {
    if (broken) return;
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      breakWith(e);
      return;
    }
    for (const frame of frames) {
      const text = textOf(frame);
      if (actor === undefined) {
        // An unknown sender gets one NAK naming why, and the connection is closed.
        broken = true;
        send(handler.nak(unknown!, text));
        socket.end();
        return;
      }
      inFlight++;
      const answer = handler.receive(actor, text);
      replies = replies
        .then(() => answer)
        .then(({ ack }) => send(ack))
        .finally(() => {
          inFlight--;
          if (inFlight <= LOW_WATER && socket.isPaused() && !broken) socket.resume();
        });
    }
    // Backpressure: a sender faster than the log stops being read (TCP then slows it) rather than
    // filling the node's memory.
    if (inFlight >= HIGH_WATER) socket.pause();
  });
  socket.on("end", () => {
    if (broken) return;
    if (decoder.partial) {
      const err = new RadledgerError("HL7_MESSAGE_MALFORMED", "MLLP: the connection ended inside a frame");
      handler.refused(err);
      refuse(err);
    }
    void replies.then(() => socket.end());
  });
}

/** Listens for MLLP on host:port (0: any free port). */
export function listenMllp(handler: MllpHandler, o: MllpListenerOptions): Promise<MllpListener> {
  const sockets = new Set<Socket>();
  // Half-open: a sender may end its side right after its last frame and still read the ACKs.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveConnection(socket, handler, o.log);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        address: `${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
