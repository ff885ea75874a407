import { expect, test } from "vitest";
import { GRANTABLE_ROLES as DOMAIN } from "../../../../domain/identity/roles.js";
import { GRANTABLE_ROLES } from "./roles.js";

test("the admin pages offer exactly the roles the domain lets an admin grant", () => {
  expect([...GRANTABLE_ROLES]).toEqual([...DOMAIN]);
});
