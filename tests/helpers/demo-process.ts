/**
 * `npm run demo` as a child process for end-to-end tests, and the headless Chromium they open its
 * pages in (playwright-core driving /usr/bin/chromium):
 *
 *   const demo = startDemo(['--port', '0', '--customers', '40'], { PGLITE_DIR, QUEUE_PREFIX });
 *   await demo.waitFor(/^Serving until Ctrl-C\.$/m, 120_000);
 *   const preview = urlAfter(demo.stdout(), 'Storefront preview');
 *   const browser = await launchChromium();        // browser.context, browser.close()
 *   …
 *   killDemo(demo);                                // SIGKILL to its process group, if still there
 *
 * The demo runs in its own process group, so a signal can reach every process it starts, as a
 * terminal's Ctrl-C does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { ROOT } from '../../dev/build';

export interface Demo {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

/**
 * Starts `npx tsx dev/demo/main.ts ...args` with this process's environment (vitest's own
 * variables, DATABASE_URL and DEMO_STATE_FILE left out) plus NODE_ENV=development and `env`.
 */
export function startDemo(args: string[], env: Record<string, string>): Demo {
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('VITEST')) childEnv[key] = value;
  }
  delete childEnv.DATABASE_URL;
  delete childEnv.DEMO_STATE_FILE;
  Object.assign(childEnv, { NODE_ENV: 'development' }, env);
  const child = spawn('npx', ['tsx', 'dev/demo/main.ts', ...args], {
    cwd: ROOT,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      for (const wake of waiters) wake();
      setImmediate(() => resolve({ code, signal }));
    });
  });
  return {
    child,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `demo did not print ${pattern} within ${timeoutMs} ms:\n${stdout}\n--- stderr ---\n${stderr}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          const match = pattern.exec(stdout);
          if (match || done) {
            clearTimeout(timer);
            waiters.delete(check);
            if (match) resolve(match);
            else reject(new Error(`demo exited before printing ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Live (not zombie) processes in process group `pgid`, from /proc. */
export function processesInGroup(pgid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …; comm may hold spaces, so split after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') {
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
        found.push({ pid: Number(entry), command: command.trim() });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** SIGKILL to the demo's process group when anything of it is still running. */
export function killDemo(demo: Demo): void {
  if (processesInGroup(demo.pid).length === 0) return;
  try {
    process.kill(-demo.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The URL the demo printed after `label:` (a regular expression source). */
export function urlAfter(stdout: string, label: string): string {
  const match = new RegExp(`^${label}:\\s+(http://\\S+)$`, 'm').exec(stdout);
  if (!match) throw new Error(`no "${label}" URL in:\n${stdout}`);
  return match[1]!;
}

// Headless Chromium says "HeadlessChrome", which the library (isbot) refuses as a bot with 410.
export const CHROME_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export interface Chromium {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Headless /usr/bin/chromium on a fresh profile, offline-friendly (no background traffic). */
export async function launchChromium(): Promise<Chromium> {
  const profileDir = mkdtempSync(join(tmpdir(), 'laurel-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    userAgent: CHROME_USER_AGENT,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
