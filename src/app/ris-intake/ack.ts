/**
 * HL7 v2 acknowledgements (HL7 v2.5.1 §2.9 original acknowledgement mode; table 0008): AA when the
 * report was recorded, AE (application error: understood, refused by a rule — unknown study or
 * clinician, a signed report) and AR (application reject: malformed, unsupported type or version).
 * MSA-3 and ERR name the refusal's code, so the RIS's interface log says why.
 */
import { Hl7Message, Hl7Segment } from "@medplum/core";
import type { RadledgerError } from "../../core/errors.js";

export type AckCode = "AA" | "AE" | "AR";

/**
 * AR for what could not be read as a supported ORU^R01 or came from an unknown sender (not
 * processed at all); AE for every other refusal (understood, and refused by a rule).
 */
export function ackCodeOf(error: RadledgerError): AckCode {
  return error.code === "HL7_MESSAGE_MALFORMED" ||
    error.code === "HL7_MESSAGE_UNSUPPORTED" ||
    error.code === "HL7_MESSAGE_TOO_LARGE" ||
    error.code === "HL7_SOURCE_UNKNOWN"
    ? "AR"
    : "AE";
}

/** HL7 table 0357 (message error condition codes) for a refusal. */
function conditionOf(error: RadledgerError): [string, string] {
  if (error.code === "HL7_MESSAGE_UNSUPPORTED")
    return error.details.at === "MSH-12"
      ? ["203", "Unsupported version id"]
      : ["200", "Unsupported message type"];
  if (error.code === "HL7_MESSAGE_MALFORMED" || error.code === "HL7_MESSAGE_TOO_LARGE")
    return ["101", "Required field missing"];
  if (error.code === "HL7_STUDY_UNKNOWN" || error.code === "HL7_CLINICIAN_UNKNOWN")
    return ["204", "Unknown key identifier"];
  return ["207", "Application internal error"];
}

/** Text safe inside an HL7 field: the delimiters escaped (§2.7), CR/LF as spaces. */
export function escapeHl7(text: string): string {
  return text
    .replace(/\\/g, "\\E\\")
    .replace(/\|/g, "\\F\\")
    .replace(/\^/g, "\\S\\")
    .replace(/&/g, "\\T\\")
    .replace(/~/g, "\\R\\")
    .replace(/[\r\n]+/g, " ");
}

const hl7Time = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14);

/** The ACK of a message as received; `error` for AE/AR (MSA-3: "CODE: message", ERR). */
export function ackOf(message: Hl7Message, code: AckCode, error?: RadledgerError): string {
  const version = message.getSegment("MSH")?.getComponent(12, 1) || "2.5.1";
  const ack = message.buildAck({
    ackCode: code,
    ...(error === undefined ? {} : { errSegment: errSegment(error, version) }),
  });
  if (error !== undefined) ack.getSegment("MSA")!.setField(3, escapeHl7(summary(error)));
  return ack.toString();
}

/** A NAK for bytes that are not an HL7 message at all (no MSH to answer): MSA-2 as far as known. */
export function nakWithoutMessage(controlId: string, error: RadledgerError, now: number): string {
  const msh = new Hl7Segment([
    "MSH",
    "^~\\&",
    "RADLEDGER",
    "",
    "",
    "",
    hl7Time(now),
    "",
    "ACK",
    String(now),
    "P",
    "2.5.1",
  ]);
  const msa = new Hl7Segment(["MSA", "AR", escapeHl7(controlId), escapeHl7(summary(error))]);
  return new Hl7Message([msh, msa, errSegment(error, "2.5.1")]).toString();
}

/** MSA-3 is 80 characters in v2.5.1: the code first, so it survives the cut. */
function summary(error: RadledgerError): string {
  return `${error.code}: ${error.message}`.slice(0, 80);
}

function errSegment(error: RadledgerError, version: string): Hl7Segment {
  const [condition, text] = conditionOf(error);
  const where = typeof error.details.at === "string" ? error.details.at : "";
  const [segment = "", field = ""] = where.split("-");
  // v2.3–2.4: ERR-1 (error code and location, ELD: segment^sequence^field^code); v2.5+: ERR-2
  // location (ERL), ERR-3 the condition (CWE), ERR-4 severity, ERR-8 the user message.
  if (version.startsWith("2.3") || version === "2.4")
    return new Hl7Segment(["ERR", `${segment}^1^${field}^${condition}&${text}&HL70357`]);
  return new Hl7Segment([
    "ERR",
    "",
    segment === "" ? "" : `${segment}^1^${field}`,
    `${condition}^${text}^HL70357`,
    "E",
    "",
    "",
    "",
    escapeHl7(`${error.code}: ${error.message}`.slice(0, 250)),
  ]);
}
