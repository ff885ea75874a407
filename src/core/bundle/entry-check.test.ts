import { expect, test } from "vitest";
import fc from "fast-check";
import { packTasks, unpackTasks, type EntryTask } from "./entry-check.js";

test("tasks cross threads intact: pack then unpack gives the same tasks", () => {
  const task = fc.record({
    index: fc.nat({ max: 2 ** 40 }),
    entry: fc.uint8Array({ maxLength: 40 }),
    publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  });
  fc.assert(
    fc.property(fc.array(task, { maxLength: 8 }), (tasks: EntryTask[]) => {
      const { data, offsets, indexes } = packTasks(tasks);
      expect(unpackTasks(data, offsets, indexes)).toEqual(tasks);
    }),
  );
});
