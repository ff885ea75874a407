/** Every entry type of every record family: the one registry the append path, API and CLI share. */
import { EntryTypeRegistry, type AnyEntryTypeDef } from "./ledger/entry-types.js";
import { identityEntryTypes } from "./identity/entries.js";
import { imagingEntryTypes } from "./imaging/entries.js";
import { aiEntryTypes } from "./ai/entries.js";
import { reportEntryTypes } from "./reports/entries.js";
import { consentEntryTypes } from "./consent/entries.js";
import { accessEntryTypes } from "./access/entries.js";
import { auditRecorded } from "./access/audit.js";
import { trialEntryTypes } from "./trials/entries.js";
import { datasetEntryTypes } from "./datasets/entries.js";
import { privacyEntryTypes } from "./privacy/entries.js";
import { consortiumEntryTypes } from "./consortium/entries.js";

export const allEntryTypes: readonly AnyEntryTypeDef[] = [
  ...identityEntryTypes,
  ...imagingEntryTypes,
  ...aiEntryTypes,
  ...reportEntryTypes,
  ...consentEntryTypes,
  ...accessEntryTypes,
  auditRecorded,
  ...trialEntryTypes,
  ...datasetEntryTypes,
  ...privacyEntryTypes,
  ...consortiumEntryTypes,
];

export function createRegistry(): EntryTypeRegistry {
  return new EntryTypeRegistry(allEntryTypes);
}
