import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { MemoryRecord } from '../../storage/types.js';
import { waitFor } from './wait.js';

/** The built CLI as a child process, with what it has written so far. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/** How the CLI is started, besides its arguments and environment. */
export interface CliOptions {
  /** Node's own options, before the script. */
  readonly nodeOptions?: readonly string[];
  /** Its standard input (a stream's for as long as the stream lasts); else nothing. */
  readonly input?: Buffer | Readable;
  /** Another user to run it as (the test run must be root to give one). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** The checkout whose `dist/cli.js` runs; else this one. */
  readonly checkout?: string;
  /** Its working directory, where relative paths (`DATA_DIR`'s `./data`) lead; else the test run's. */
  readonly cwd?: string;
}

/**
 * Starts `node [nodeOptions] dist/cli.js args` as a user would: with only PATH and
 * `env` in its environment, so that nothing of the test run's own (INFLUX_URL,
 * REQUIRE_*) reaches it.
 */
export function startCli(args: readonly string[], env: Readonly<Record<string, string>>, { nodeOptions = [], input, user, checkout = process.cwd(), cwd }: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [...nodeOptions, join(checkout, 'dist', 'cli.js'), ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...user,
  });
  // A child that ends before it has read all its input (an import stopping at a failed
  // store) closes the pipe under the writer: the test is about the child, so the
  // writer's EPIPE is not a failure of its own.
  child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  if (Buffer.isBuffer(input)) child.stdin!.end(input);
  else input?.pipe(child.stdin!);
  let [stdout, stderr] = ['', ''];
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the CLI to its end: its exit code and all it wrote ('close' comes after its output is read, 'exit' may not). */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string>>, options: CliOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = startCli(args, env, options);
  const [code] = (await once(cli.child, 'close')) as [number];
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/**
 * The newest `count` points the API of a running CLI process (`all`) serves on
 * `port`, once it serves that many: its collector took them. Fails at once, with
 * its output, if the process ends first.
 */
export function pointsServed(cli: CliProcess, port: number, count: number): Promise<MemoryRecord[]> {
  return waitFor(`${count} points collected and served`, async () => {
    if (cli.child.exitCode !== null) throw new Error(`the service exited with code ${cli.child.exitCode}: ${cli.stdout()}${cli.stderr()}`);
    const response = await fetch(`http://127.0.0.1:${port}/memory-logs/?limit=${count}`).catch(() => undefined);
    const body = response?.status === 200 ? ((await response.json()) as MemoryRecord[]) : [];
    return body.length === count ? body : undefined;
  });
}
