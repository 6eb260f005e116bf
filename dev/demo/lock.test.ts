import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, LockedError } from './lock';

const dir = mkdtempSync(join(tmpdir(), 'laurel-demo-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('acquireLock', () => {
  it('lets one holder in at a time and is released', () => {
    const path = join(dir, 'a', 'pglite-demo.json.lock');
    const release = acquireLock(path);
    expect(existsSync(path)).toBe(true);
    // A live process (the test runner's parent) holds it.
    writeFileSync(path, `${process.ppid}\n`);
    expect(() => acquireLock(path)).toThrow(LockedError);
    expect(() => acquireLock(path)).toThrow(`another process (pid ${process.ppid})`);
    release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose process is gone', () => {
    const path = join(dir, 'stale.lock');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(path, `${gone.stdout}\n`);
    const release = acquireLock(path);
    release();
    expect(existsSync(path)).toBe(false);
  });
});
