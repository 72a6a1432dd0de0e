// Builds the package as it would be published (tsc → dist/, `npm pack`), and unpacks the tarball
// into a fixture app under .runtimes/app-<key>/node_modules/latent-wasm, so the runtime tests
// import 'latent-wasm' exactly as a user would, through the `exports` map.
// Cached by a hash of everything that goes into the tarball; several test files may ask at once
// (vitest runs files in parallel workers): a directory lock makes one build and the rest wait.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock as sharedLock } from '../../scripts/install-runtimes.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const runtimesDir = join(root, '.runtimes');
const fixtures = join(root, 'test', 'runtimes', 'fixtures');

export interface PackedFile {
  path: string;
  size: number;
}
export interface PackedApp {
  /** A directory with package.json, node_modules/latent-wasm and the fixture scripts. */
  dir: string;
  /** The tarball's file list, as `npm pack --json` reports it. */
  files: PackedFile[];
  /** The tarball's size in bytes (gzipped). */
  tarballSize: number;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function sourceKey(): string {
  const h = createHash('sha256');
  const inputs = [
    ...walk(join(root, 'src')).sort(),
    ...walk(fixtures).sort(),
    join(root, 'build', 'latent.wasm'),
    join(root, 'build', 'latent-relaxed.wasm'),
    join(root, 'package.json'),
    join(root, 'tsconfig.build.json'),
    join(root, 'scripts', 'build-dist.mjs'),
    join(root, 'README.md'),
    join(root, 'LICENSE'),
  ];
  for (const f of inputs) h.update(relative(root, f)).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

/** Runs `fn` holding a directory lock in .runtimes/ (stale after 5 minutes). */
export function withLock<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  return sharedLock(runtimesDir, name, fn, 300_000);
}

/** The packed package, unpacked into a fixture app (built once per source state). */
export async function packedApp(): Promise<PackedApp> {
  if (!existsSync(join(root, 'build', 'latent.wasm'))) {
    execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { cwd: root, stdio: 'inherit' });
  }
  const key = sourceKey();
  const dir = join(runtimesDir, `app-${key}`);
  const manifest = join(dir, 'pack.json');
  return withLock('pack', () => {
    if (!existsSync(manifest)) {
      const staging = join(runtimesDir, `staging-${key}`);
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(join(staging, 'node_modules', 'latent-wasm'), { recursive: true });
      // dist/ as `npm run build` makes it (scripts/build-dist.mjs starts from an empty dist/)
      execFileSync(process.execPath, [join(root, 'scripts', 'build-dist.mjs')], { cwd: root, stdio: 'inherit' });
      const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', staging], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [info] = JSON.parse(out) as { filename: string; size: number; files: PackedFile[] }[];
      const tarball = join(staging, info.filename);
      execFileSync('tar', ['-xzf', tarball, '-C', join(staging, 'node_modules', 'latent-wasm'), '--strip-components=1']);
      for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(staging, f));
      writeFileSync(
        join(staging, 'package.json'),
        JSON.stringify({ name: 'latent-wasm-fixture-app', private: true, type: 'module', dependencies: { 'latent-wasm': '*' } }, null, 2),
      );
      writeFileSync(
        join(staging, 'pack.json'),
        JSON.stringify({ files: info.files, tarballSize: statSync(tarball).size }, null, 2),
      );
      rmSync(tarball);
      // older builds of the app (other source states) are dead weight
      for (const old of readdirSync(runtimesDir)) if (/^app-[0-9a-f]+$/.test(old)) rmSync(join(runtimesDir, old), { recursive: true, force: true });
      renameSync(staging, dir);
    }
    const { files, tarballSize } = JSON.parse(readFileSync(manifest, 'utf8')) as Omit<PackedApp, 'dir'>;
    return { dir, files, tarballSize };
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns a command with a hard timeout (SIGKILL of the child and its group), capturing output. */
export function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last line of stdout, parsed as JSON; a failure names the command's output. */
export function lastJson<T>(r: RunResult, what: string): T {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    if (r.code !== 0) throw new Error(`exit ${r.code ?? r.signal}`);
    return JSON.parse(line) as T;
  } catch (e) {
    throw new Error(`${what} failed (${(e as Error).message})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
