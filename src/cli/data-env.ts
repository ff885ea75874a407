/**
 * `--data` from the environment: every command's `--data <dir>` option falls back to
 * `$RADLEDGER_DATA` when it is not given (an explicit `--data` wins). One walk over the registered
 * commands, so each command declares `--data` as before.
 */
import type { Command } from "commander";

export const DATA_ENV = "RADLEDGER_DATA";

export function dataFromEnvironment(command: Command): void {
  for (const option of command.options) {
    if (option.long !== "--data") continue;
    option.env(DATA_ENV);
    // Commander listens for an option's environment variable only when the option is added with one;
    // this is the listener it would have added.
    command.on(`optionEnv:${option.attributeName()}`, (value: string) =>
      command.setOptionValueWithSource(option.attributeName(), value, "env"),
    );
  }
  for (const sub of command.commands) dataFromEnvironment(sub);
}
