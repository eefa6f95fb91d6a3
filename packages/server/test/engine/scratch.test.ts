import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeOrphanedScratch, scratchPath } from '../../src/engine/scratch.js';

/** A process that starts removes what killed processes of its host left in the scratch directory, and nothing else. */
describe('scratch files', () => {
  it('are named after their host and process; only those of processes gone are removed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reprise-scratch-'));
    const mine = scratchPath(dir, '.master.wav');
    fs.writeFileSync(mine, 'live');
    // A pid that was just in use and is gone now: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const [host] = path.basename(mine).split('.');
    const orphan = path.join(dir, `${host}.${gone}.0c4a.master.wav`);
    const elsewhere = path.join(dir, `another-host.${gone}.0c4a.master.wav`);
    const unrelated = path.join(dir, 'notes.txt');
    for (const file of [orphan, elsewhere, unrelated]) fs.writeFileSync(file, 'x');
    expect(removeOrphanedScratch(dir)).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual([path.basename(elsewhere), path.basename(mine), 'notes.txt'].sort());
    expect(removeOrphanedScratch(path.join(dir, 'missing'))).toBe(0);
  });
});
