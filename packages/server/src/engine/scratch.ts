import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Scratch files of the render threads: a master written to disk as it is made (an edit that
 * never holds the whole song), until the worker moves it into the blob store. Each is named
 * after the host and process that made it, so a process that starts can remove what a killed
 * one left behind without touching the files of processes still running beside it.
 */

/** Where scratch files go when no directory is configured (tests, benchmarks, a bare engine). */
export const DEFAULT_SCRATCH_DIR = path.join(os.tmpdir(), 'reprise-scratch');

const hostTag = () => os.hostname().replace(/[^A-Za-z0-9-]/g, '_');

/** A new, unused path in `dir` (created if need be) for a file ending in `suffix`. */
export function scratchPath(dir: string, suffix: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${hostTag()}.${process.pid}.${randomUUID()}${suffix}`);
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes the scratch files this host's processes left when they died; how many. */
export function removeOrphanedScratch(dir: string): number {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  const host = hostTag();
  let removed = 0;
  for (const name of entries) {
    const [owner, pid] = name.split('.');
    if (owner !== host || !pid || !/^\d+$/.test(pid) || isRunning(Number(pid))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
