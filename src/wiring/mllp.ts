/**
 * The MLLP listener of a serving node for HL7 v2 results from a RIS (docs/intake.md): builds the RIS
 * intake (src/app/ris-intake) and the listener (src/adapters/mllp), off unless `--mllp PORT` is
 * given. The wiring is the one place that constructs adapters.
 */
import { RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "../app/node.js";
import { RisIntake } from "../app/ris-intake/intake.js";
import { listenMllp, type MllpListener } from "../adapters/mllp/listener.js";

export interface MllpOptions {
  readonly host: string;
  readonly port: number;
  /** Sender address → system actor (integration role). */
  readonly sources: ReadonlyMap<string, string>;
  /** RIS clinician id → actor id. */
  readonly clinicians: ReadonlyMap<string, string>;
  /** Every message's outcome ("recorded", "duplicate" or a code): the node's metrics. */
  readonly onOutcome?: (outcome: string) => void;
  readonly log?: (line: string) => void;
}

/** The running listener, as the command line sees it. */
export type MllpService = MllpListener;

export async function startMllp(node: RadledgerNode, o: MllpOptions): Promise<MllpService> {
  const intake = new RisIntake(node, {
    sources: o.sources,
    clinicians: o.clinicians,
    ...(o.onOutcome === undefined ? {} : { onOutcome: o.onOutcome }),
  });
  try {
    return await listenMllp(intake, {
      host: o.host,
      port: o.port,
      ...(o.log === undefined ? {} : { log: o.log }),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RadledgerError(
      "LISTEN_FAILED",
      `cannot listen for MLLP on ${o.host}:${o.port}: ${code === "EADDRINUSE" ? "the address is already in use" : (code ?? "failed")}`,
    );
  }
}
