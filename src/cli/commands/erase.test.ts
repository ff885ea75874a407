import { describe, expect, test } from "vitest";
import { confirmErasure, type ConfirmIo } from "./erase.js";

const patient = "pt_" + "A".repeat(43);

/** A terminal that answers `answer` and records the questions asked. */
function terminal(answer: string, isTTY = true): ConfirmIo & { asked: string[] } {
  const asked: string[] = [];
  return {
    isTTY,
    asked,
    ask: (q) => {
      asked.push(q);
      return Promise.resolve(answer);
    },
  };
}

describe("erase confirmation", () => {
  test("on a terminal, the pseudonym typed again confirms; anything else refuses", async () => {
    const ok = terminal(`${patient}\n`);
    await expect(confirmErasure(patient, false, ok)).resolves.toBeUndefined();
    expect(ok.asked[0]).toContain("Type the patient pseudonym");
    for (const answer of ["", "y", "yes", patient.slice(0, -1)])
      await expect(confirmErasure(patient, false, terminal(answer))).rejects.toMatchObject({
        code: "CONFIRMATION_REQUIRED",
      });
  });

  test("without a terminal it refuses without asking; --yes skips the question either way", async () => {
    const pipe = terminal(patient, false);
    await expect(confirmErasure(patient, false, pipe)).rejects.toMatchObject({
      code: "CONFIRMATION_REQUIRED",
    });
    expect(pipe.asked).toEqual([]);
    const yes = terminal("", false);
    await expect(confirmErasure(patient, true, yes)).resolves.toBeUndefined();
    await expect(confirmErasure(patient, true, terminal(""))).resolves.toBeUndefined();
    expect(yes.asked).toEqual([]);
  });
});
