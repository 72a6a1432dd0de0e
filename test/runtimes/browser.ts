// Vite builds of the fixture app (test/runtimes/fixtures) against the packed package, and a
// static server with a strict Content-Security-Policy to load them in Chromium.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

export interface AppBuild {
  outDir: string;
  /** JS a page loads at startup (the entry and its static imports), minified. */
  startupJs: { file: string; bytes: number; gzip: number }[];
  /** JS chunks loaded only on demand (dynamic imports). */
  lazyJs: { file: string; bytes: number; gzip: number }[];
}

type Chunk = { type: 'chunk'; fileName: string; isEntry: boolean; imports: string[]; dynamicImports: string[]; code: string };

export async function buildApp(appDir: string): Promise<AppBuild> {
  const { build } = await import('vite');
  const outDir = join(appDir, 'dist-web');
  const result = await build({
    root: appDir,
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, minify: true, target: 'es2022', reportCompressedSize: false },
  });
  const output = (Array.isArray(result) ? result[0] : result) as { output: (Chunk | { type: 'asset' })[] };
  const chunks = new Map(output.output.filter((o): o is Chunk => o.type === 'chunk').map((c) => [c.fileName, c]));
  const startup = new Set<string>();
  const visit = (f: string) => {
    if (startup.has(f)) return;
    startup.add(f);
    for (const i of chunks.get(f)!.imports) visit(i);
  };
  for (const c of chunks.values()) if (c.isEntry) visit(c.fileName);
  const measure = (c: Chunk) => ({ file: c.fileName, bytes: Buffer.byteLength(c.code), gzip: gzipSync(c.code, { level: 9 }).length });
  return {
    outDir,
    startupJs: [...startup].map((f) => measure(chunks.get(f)!)),
    lazyJs: [...chunks.values()].filter((c) => !startup.has(c.fileName)).map(measure),
  };
}

/** Bundles one module as a library and returns its minified code. */
export async function bundleModule(appDir: string, entry: string): Promise<string> {
  const { build } = await import('vite');
  const outDir = join(appDir, 'dist-lib');
  await build({
    root: appDir,
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, minify: true, target: 'es2022', lib: { entry: join(appDir, entry), formats: ['es'], fileName: 'out' } },
  });
  return readFileSync(join(outDir, 'out.js'), 'utf8');
}

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

/** Serves `dir` on 127.0.0.1 with the strict CSP; records every path requested. */
export async function serve(dir: string): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html', '.css': 'text/css', '.svg': 'image/svg+xml', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    if (path === '/favicon.ico') {
      res.writeHead(204).end(); // browsers ask for it; a 404 would be logged as a console error
      return;
    }
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': CSP });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
