import { describe, expect, test } from "vitest";
import { MAX_MLLP_MESSAGE, MllpDecoder } from "./listener.js";

const VT = "\x0b";
const END = "\x1c\r";
const text = (frames: Buffer[]): string[] => frames.map((f) => f.toString("latin1"));

describe("MLLP framing", () => {
  test("two frames in one read are two messages; a frame split across reads is one; line ends between frames are tolerated", () => {
    const d = new MllpDecoder();
    expect(text(d.push(Buffer.from(`${VT}MSH|one${END}\r\n${VT}MSH|two${END}${VT}MSH|th`)))).toEqual([
      "MSH|one",
      "MSH|two",
    ]);
    expect(d.partial).toBe(true);
    expect(text(d.push(Buffer.from(`ree\x1c`)))).toEqual([]);
    expect(text(d.push(Buffer.from("\r")))).toEqual(["MSH|three"]);
    expect(d.partial).toBe(false);
  });

  test("bytes outside a frame, <FS> without <CR>, a <VT> inside a frame: HL7_MESSAGE_MALFORMED", () => {
    expect(() => new MllpDecoder().push(Buffer.from("GET / HTTP/1.1\r\n"))).toThrow(
      expect.objectContaining({ code: "HL7_MESSAGE_MALFORMED" }),
    );
    expect(() => new MllpDecoder().push(Buffer.from(`${VT}MSH|x\x1cX`))).toThrow(
      expect.objectContaining({ code: "HL7_MESSAGE_MALFORMED" }),
    );
    expect(() => new MllpDecoder().push(Buffer.from(`${VT}MSH|x${VT}MSH|y${END}`))).toThrow(
      expect.objectContaining({ code: "HL7_MESSAGE_MALFORMED" }),
    );
  });

  test("a frame over 1 MiB is refused as soon as the limit is passed, before its end arrives", () => {
    const d = new MllpDecoder();
    d.push(Buffer.concat([Buffer.from(VT), Buffer.alloc(MAX_MLLP_MESSAGE, 0x41)]));
    expect(() => d.push(Buffer.alloc(16, 0x41))).toThrow(
      expect.objectContaining({ code: "HL7_MESSAGE_TOO_LARGE" }),
    );
  });
});
