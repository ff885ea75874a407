/**
 * Synthetic HL7 v2 ORU^R01 radiology results for the RIS intake's tests (no real names: every person
 * is "SYNTHETIC"). Segments joined by CR, as MLLP carries them.
 */
export interface OruOptions {
  readonly id: string;
  /** OBR-25: P, A, F, C (or anything, to test refusals). */
  readonly status: string;
  readonly accession?: string;
  /** OBR-32 principal result interpreter's RIS id. */
  readonly principal?: string;
  readonly assistant?: string;
  readonly technician?: string;
  /** OBX rows: [OBX-3 code^text, text, value type (TX), OBX-4 sub-id, OBX-16 observer id]. */
  readonly obx?: readonly (readonly [string, string, string?, string?, string?])[];
  readonly type?: string;
  readonly version?: string;
}

const person = (id: string | undefined, role: string): string =>
  id === undefined ? "" : `${id}&SYNTHETIC&${role}`;

export function oruMessage(o: OruOptions): string {
  const obr = new Array<string>(35).fill("");
  obr[0] = "OBR";
  obr[1] = "1";
  obr[2] = `PL-${o.id}`;
  obr[3] = o.accession ?? "";
  obr[4] = "CTHEAD^CT HEAD WITHOUT CONTRAST^L";
  obr[7] = "20261208013000";
  obr[24] = "CT";
  obr[25] = o.status;
  obr[32] = person(o.principal, "ATTENDING");
  obr[33] = person(o.assistant, "RESIDENT");
  obr[34] = person(o.technician, "TECH");
  const obx = (
    o.obx ?? [["18782-3^Radiology Study observation^LN", "No acute intracranial abnormality."]]
  ).map(([code, text, type = "TX", sub = "", observer = ""], i) =>
    [
      "OBX",
      String(i + 1),
      type,
      code,
      sub,
      text,
      "",
      "",
      "",
      "",
      "",
      o.status === "C" ? "C" : o.status === "F" ? "F" : "P",
      "",
      "",
      "",
      "",
      observer === "" ? "" : `${observer}^SYNTHETIC^OBSERVER`,
    ].join("|"),
  );
  return [
    `MSH|^~\\&|RIS|TESTHOSP|RADLEDGER|TESTHOSP|20261208020000||${o.type ?? "ORU^R01^ORU_R01"}|${o.id}|P|${o.version ?? "2.5.1"}`,
    "PID|1||SYN-0001^^^TESTHOSP^MR||SYNTHETIC^PATIENT",
    "ORC|RE|PL-1|" + (o.accession ?? ""),
    obr.join("|"),
    ...obx,
  ].join("\r");
}
