import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Resident memory of a process, in MiB (VmRSS). */
export async function residentMiB(pid: number): Promise<number> {
  return (await residentParts(pid)).totalMiB;
}

/**
 * Resident memory and the part of it only this process holds: anonymous pages (its
 * heaps and stacks). The rest is pages of files (the `node` binary's code and
 * read-only data, shared libraries), which every process running the same files
 * shares and the kernel can drop and read again.
 */
export async function residentParts(pid: number): Promise<{ totalMiB: number; privateMiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]);
  return { totalMiB: kib('VmRSS') / 1024, privateMiB: kib('RssAnon') / 1024 };
}

/** CPU time a process has used so far, in ms: in its own code (user) and in the kernel's on its behalf (system). */
export function cpuTimes(pid: number): { userMs: number; systemMs: number } {
  const fields = statFields(pid);
  if (fields === undefined) throw new Error(`process ${pid} is gone: no CPU time to read`);
  return { userMs: (Number(fields[11]) * 1_000) / TICKS_PER_SECOND, systemMs: (Number(fields[12]) * 1_000) / TICKS_PER_SECOND };
}

/**
 * Minor page faults a process has taken so far: pages the kernel mapped for it
 * without reading the disk, most of them memory it touched for the first time,
 * each zeroed and mapped in the kernel's time.
 */
export function minorPageFaults(pid: number): number {
  const fields = statFields(pid);
  if (fields === undefined) throw new Error(`process ${pid} is gone: no page faults to read`);
  return Number(fields[7]);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The processes whose parent is `pid` (from each process's stat line), read at once. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** Whether `pid` still runs: a zombie (ended, not yet reaped by its parent) does not. */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** The stat line's fields after the command name (state first, then the parent), or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return fieldsAfterName(stat);
}

/** A stat line's fields after the command name, which is in parentheses and may hold spaces. */
function fieldsAfterName(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
