import { Hl7Message } from "@medplum/core";
import { describe, expect, test } from "vitest";
import { RadledgerError } from "../../core/errors.js";
import { oruMessage } from "../../../test/helpers/oru.js";
import { ackOf } from "./ack.js";
import { parseHl7, readOru, unescapeHl7 } from "./oru.js";

describe("ORU^R01 reading", () => {
  test("sections by LOINC and DICOM codes and by words, repeated OBX joined, OBX-16 observer, the study UID OBX", () => {
    const r = readOru(
      parseHl7(
        oruMessage({
          id: "R1",
          status: "A",
          accession: "ACC-7",
          principal: "RIS-1",
          assistant: "RIS-2",
          technician: "RIS-3",
          obx: [
            ["121060^History^DCM", "Headache."],
            ["18782-3^Findings^LN", "Part one.", "TX", "1"],
            ["18782-3^Findings^LN", "Part two.", "TX", "1"],
            ["&IMP^Impression^L", "Normal.", "FT", "", "RIS-2"],
            ["113014^Study^DCM", "1.2.3.4.5", "HD"],
            ["8867-4^Heart rate^LN", "72", "NM"],
          ],
        }),
      ),
    );
    expect(r).toEqual({
      controlId: "R1",
      version: "2.5.1",
      accession: "ACC-7",
      studyUid: "1.2.3.4.5",
      status: "A",
      principal: "RIS-1",
      assistants: ["RIS-2"],
      technicians: ["RIS-3"],
      sections: [
        { section: "history", text: "Headache." },
        { section: "findings", text: "Part one.\nPart two." },
        { section: "impression", text: "Normal.", observer: "RIS-2" },
      ],
    });
  });

  test("the accession from OBR-18 when OBR-3 is empty; HL7 escapes decoded", () => {
    const text = oruMessage({ id: "R2", status: "P", principal: "RIS-1" }).replace(
      /^(OBR(?:\|[^|]*){17})\|/m,
      "$1|ACC-18",
    );
    expect(readOru(parseHl7(text)).accession).toBe("ACC-18");
    expect(unescapeHl7("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\X41\\\\H\\h")).toBe("a|b^c&d~e\\f\ngAh");
  });

  test("the ACK of a v2.3 message carries ERR-1 (code and location); of v2.5.1, ERR-2/3/4/8", () => {
    const err = new RadledgerError("HL7_STUDY_UNKNOWN", "no such study", { at: "OBR-3" });
    const v23 = Hl7Message.parse(
      ackOf(parseHl7(oruMessage({ id: "A", status: "P", version: "2.3" })), "AE", err),
    );
    expect(v23.getSegment("ERR")!.getField(1).toString()).toBe("OBR^1^3^204&Unknown key identifier&HL70357");
    const v251 = Hl7Message.parse(ackOf(parseHl7(oruMessage({ id: "B", status: "P" })), "AE", err));
    const e = v251.getSegment("ERR")!;
    expect([e.getField(2).toString(), e.getComponent(3, 1), e.getField(4).toString()]).toEqual([
      "OBR^1^3",
      "204",
      "E",
    ]);
    expect(e.getField(8).toString()).toBe("HL7_STUDY_UNKNOWN: no such study");
    expect(v251.getSegment("MSA")!.getField(2).toString()).toBe("B");
  });
});
