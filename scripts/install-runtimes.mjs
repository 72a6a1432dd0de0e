// Installs the runtimes the cross-runtime tests spawn (Deno, Bun, workerd via Miniflare) into
// .runtimes/tools, outside the project's lock file: as devDependencies they break `npm ci` on a
// fresh clone (their other-platform optional packages are not recorded in the lock; see
// /work/shared/RUNTIMES.md). Idempotent: does nothing when the pinned versions are there.
// Safe to call from several test workers at once (a directory lock serializes installs).
// Usage: node scripts/install-runtimes.mjs   (prints the tools directory)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = join(root, '.runtimes', 'tools');

/** Pinned so every machine runs the same engines. Miniflare 4 brings its own `workerd`. */
export const PINNED = { deno: '2.9.6', bun: '1.4.5', miniflare: '4.20260730.0' };

export const bins = {
  deno: join(toolsDir, 'node_modules', '.bin', 'deno'),
  bun: join(toolsDir, 'node_modules', '.bin', 'bun'),
  workerd: join(toolsDir, 'node_modules', '.bin', 'workerd'),
};

function installed() {
  try {
    const stamp = JSON.parse(readFileSync(join(toolsDir, 'installed.json'), 'utf8'));
    return JSON.stringify(stamp) === JSON.stringify(PINNED) && Object.values(bins).every((b) => existsSync(b));
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the directory lock `<dir>/<name>.lock`, so parallel test workers take turns;
 * a lock older than `staleMs` belongs to a dead process and is broken.
 */
export async function withLock(dir, name, fn, staleMs = 600_000) {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, `${name}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > staleMs) rmSync(lock, { recursive: true, force: true });
      } catch {}
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Installs the pinned runtimes unless present; resolves to the tools directory. */
export async function installRuntimes() {
  if (installed()) return toolsDir;
  return withLock(toolsDir, 'install', () => {
    if (!installed()) {
      writeFileSync(
        join(toolsDir, 'package.json'),
        JSON.stringify({ private: true, description: 'test runtimes, see scripts/install-runtimes.mjs', dependencies: PINNED }, null, 2),
      );
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      execFileSync(npm, ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], {
        cwd: toolsDir,
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 540_000,
      });
      for (const [name, bin] of Object.entries(bins)) {
        if (!existsSync(bin)) throw new Error(`install-runtimes: ${name} is missing after npm install (${bin})`);
      }
      writeFileSync(join(toolsDir, 'installed.json'), JSON.stringify(PINNED));
    }
    return toolsDir;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await installRuntimes());
}
