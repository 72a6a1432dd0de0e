// The package as published: what the tarball holds, what its entry may reach, and that the packed
// build runs in Node (as is, and with Node's globals removed, as in a browser).
import { readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as lib from '../src/index.js';
import { hashRun } from './runtimes/fixtures/hash-run.mjs';
import { lastJson, packedApp, root, run, type PackedApp } from './runtimes/package.js';

type HashResult = Awaited<ReturnType<typeof hashRun>>;

let app: PackedApp;
beforeAll(async () => {
  app = await packedApp();
}, 180_000);

const KB = 1024;

describe('the published tarball', () => {
  test('holds dist/, both .wasm builds, README, LICENSE, package.json, and nothing else', () => {
    const paths = app.files.map((f) => f.path).sort();
    const stray = paths.filter(
      (p) => !/^dist\/.+\.(js|d\.ts)$/.test(p) && !['build/latent.wasm', 'build/latent-relaxed.wasm', 'README.md', 'LICENSE', 'package.json'].includes(p),
    );
    expect(stray).toEqual([]);
    for (const p of ['dist/index.js', 'dist/index.d.ts', 'build/latent.wasm', 'build/latent-relaxed.wasm', 'README.md', 'LICENSE']) {
      expect(paths).toContain(p);
    }
  });

  test('every `exports` target is in the tarball; main and types too', () => {
    const pkg = JSON.parse(readFileSync(join(app.dir, 'node_modules', 'latent-wasm', 'package.json'), 'utf8'));
    const targets = [pkg.main, pkg.types, pkg.exports['.'].import, pkg.exports['.'].types, pkg.exports['./wasm'], pkg.exports['./wasm-relaxed']];
    const paths = new Set(app.files.map((f) => f.path));
    for (const t of targets) expect(paths, t).toContain(t.replace(/^\.\//, ''));
    expect(pkg.sideEffects).toBe(false);
  });

  test('the .wasm builds are under 64 KB raw; the strict one is the default `latent-wasm/wasm`', () => {
    for (const f of ['latent.wasm', 'latent-relaxed.wasm']) {
      const size = statSync(join(root, 'build', f)).size;
      console.log(`${f}: ${(size / KB).toFixed(1)} KB raw; tarball ${(app.tarballSize / KB).toFixed(1)} KB`);
      expect(size).toBeLessThan(64 * KB);
    }
    const mod = new WebAssembly.Module(readFileSync(join(app.dir, 'node_modules', 'latent-wasm', 'build', 'latent.wasm')));
    const [section] = WebAssembly.Module.customSections(mod, 'latent-wasm:build');
    expect(new TextDecoder().decode(section)).toBe('strict');
  });

  test('the browser entry reaches no Node built-in, no require, no Node global, and evaluates no strings', () => {
    // every module dist/index.js can reach, static or dynamic imports; dist/node.js (the
    // `latent-wasm/node` entry, file helpers) is allowed node: imports but must not be reachable
    const pkgDir = join(app.dir, 'node_modules', 'latent-wasm');
    const reachable = new Set<string>();
    const visit = (file: string) => {
      if (reachable.has(file)) return;
      reachable.add(file);
      const src = readFileSync(join(pkgDir, file), 'utf8');
      for (const m of src.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g)) {
        visit(posix.normalize(posix.join(posix.dirname(file), m[1])));
      }
    };
    visit('dist/index.js');
    expect(reachable.size).toBeGreaterThanOrEqual(3);
    expect([...reachable].some((f) => /^dist\/chunks\/wasm-relaxed-bytes-[\w-]+\.js$/.test(f))).toBe(true);
    expect(reachable).not.toContain('dist/node.js');
    for (const f of reachable) {
      const src = readFileSync(join(pkgDir, f), 'utf8');
      // comments may mention anything; the thread pool's worker program is text for a worker
      // (its `require` branch runs only under worker_threads, where require exists)
      const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').replace(/WORKER_SOURCE = `[^`]*`/, 'WORKER_SOURCE = ``');
      expect(code, f).not.toMatch(/(from|import)\s*\(?\s*['"](node:|fs|path|crypto|module|url|os|child_process)['"]/);
      expect(code, f).not.toMatch(/\brequire\s*\(|\bprocess\.|\bBuffer\b|__dirname|import\.meta\.url/);
      expect(code, f).not.toMatch(/\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(/);
      // every bare import is a package the browser bundle would have to resolve: there are none
      expect(code, f).not.toMatch(/(from\s*|import\s*\(\s*|import\s+)['"][^.'"][^'"]*['"]/);
    }
  });
});

describe('the packed build in Node', () => {
  let here: HashResult;
  beforeAll(async () => {
    here = await hashRun(lib);
  });

  test('runs from node_modules (import "latent-wasm") and gives the bits the sources give', async () => {
    const r = await run(process.execPath, ['main.mjs'], { cwd: app.dir, timeoutMs: 60_000 });
    const packed = lastJson<HashResult>(r, 'node main.mjs');
    expect(packed).toEqual(here);
    expect(here.loss[2]).toBeLessThan(here.loss[0]);
  });

  test("init({ module }) with the .wasm resolved from 'latent-wasm/wasm' gives the same bits", async () => {
    const r = await run(process.execPath, ['main-module.mjs'], { cwd: app.dir, timeoutMs: 60_000 });
    expect(lastJson<HashResult>(r, 'node main-module.mjs')).toEqual(here);
  });

  test('runs with process, Buffer, require and global removed (the browser entry needs none)', async () => {
    const r = await run(process.execPath, ['main-no-node-globals.mjs'], { cwd: app.dir, timeoutMs: 60_000 });
    const bare = lastJson<HashResult & { processType: string; bufferType: string }>(r, 'node main-no-node-globals.mjs');
    expect(bare.processType).toBe('undefined');
    expect(bare.bufferType).toBe('undefined');
    expect(bare.hash).toBe(here.hash);
  });
});
