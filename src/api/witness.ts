/**
 * C2SP tlog-witness over HTTP: `POST /add-checkpoint` at the path the spec names (the node's root is
 * the witness's submission prefix). The body is read as raw bytes whatever its Content-Type (the
 * spec names none), bounded in size, and handed to the witness state machine. Answers:
 * 200 text/plain signature lines; 409 with `text/x.tlog.size` and the latest cosigned size when the
 * old size does not match; every other refusal is an RFC 9457 problem with the status the spec
 * prescribes (400, 403, 404, 409, 422).
 */
import type { FastifyInstance } from "fastify";
import { RadledgerError } from "../core/errors.js";
import {
  ADD_CHECKPOINT_PATH,
  formatSizeResponse,
  MAX_ADD_CHECKPOINT_BODY,
  TLOG_SIZE_CONTENT_TYPE,
} from "../core/witness-protocol.js";
import type { Witness } from "../domain/consortium/witness.js";
import { sendProblem } from "./problem.js";

export function registerWitnessRoutes(app: FastifyInstance, witness: Witness): void {
  void app.register(async (scope) => {
    // Encapsulated: only this route reads arbitrary content types as bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: MAX_ADD_CHECKPOINT_BODY },
      (_req, body, done) => {
        done(null, body);
      },
    );
    scope.post(ADD_CHECKPOINT_PATH, { bodyLimit: MAX_ADD_CHECKPOINT_BODY }, async (req, reply) => {
      const body = req.body;
      if (!(body instanceof Buffer))
        throw new RadledgerError("WITNESS_REQUEST_MALFORMED", "add-checkpoint needs a request body");
      try {
        const result = witness.addCheckpoint(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
        return await reply.code(200).type("text/plain; charset=utf-8").send(result.body);
      } catch (e) {
        if (e instanceof RadledgerError && e.code === "WITNESS_SIZE_CONFLICT") {
          const latest = e.details.latestSize;
          return reply
            .code(409)
            .type(TLOG_SIZE_CONTENT_TYPE)
            .send(formatSizeResponse(typeof latest === "number" ? latest : 0));
        }
        if (e instanceof RadledgerError) return sendProblem(reply, e, req.url);
        throw e;
      }
    });
  });
}
