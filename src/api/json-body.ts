/**
 * Request bodies as the API reads them: strict UTF-8 (RFC 8259 §8.1 — a body that is not valid
 * UTF-8 is refused, never silently repaired with U+FFFD) and strict JSON (src/core: no duplicate
 * names, bounded depth). One parser for application/json (src/api/server.ts) and the same for the
 * FHIR media type application/fhir+json (RFC 6838 +json) where a FHIR route accepts it.
 */
import type { FastifyRequest } from "fastify";
import { RadledgerError } from "../core/errors.js";
import { parseStrictJson } from "../core/canonical-json.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A request body as text: invalid UTF-8 is ENCODING_INVALID (400), not replaced with U+FFFD. */
export function decodeUtf8Body(body: Uint8Array): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new RadledgerError("ENCODING_INVALID", "the request body is not valid UTF-8", { at: "body" });
  }
}

/** A fastify content-type parser (parseAs "buffer") reading a body as strict UTF-8 JSON. */
export function strictJsonBody(
  _req: FastifyRequest,
  body: string | Buffer,
  done: (err: Error | null, value?: unknown) => void,
): void {
  try {
    done(null, parseStrictJson(decodeUtf8Body(body as Buffer), { allowNull: true }));
  } catch (e) {
    done(e as Error, undefined);
  }
}
