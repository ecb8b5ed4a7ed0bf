import { spawnSync } from 'node:child_process';

/**
 * Skips the suite with a visible message when `command` is not installed, unless
 * the variable `required` is 1 (CI sets it), where that is a failure.
 */
export function requireTool(context: Mocha.Context, command: string, versionArgs: string[], required: string, install: string): void {
  if (spawnSync(command, versionArgs, { stdio: 'ignore' }).status === 0) return;
  const message = `${command} is not installed (${install})`;
  if (process.env[required] === '1') throw new Error(`${message}; ${required}=1 makes this a failure`);
  console.warn(`    SKIPPED: ${message}`);
  context.skip();
}
