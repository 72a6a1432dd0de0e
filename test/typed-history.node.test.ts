// fit's history and evaluate's result are typed by metric name: test/types/history.ts, which
// uses the names right and misspelt under @ts-expect-error, compiles without a diagnostic (an
// unused @ts-expect-error, i.e. a typo that compiles, is one).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, test } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

test('metric names are typed: typos do not compile, right names do', () => {
  const file = join(ROOT, 'test', 'types', 'history.ts');
  const text = ts.sys.readFile(file)!;
  // the same file without its @ts-expect-error lines: each of them must then be an error
  const broken = join(ROOT, 'test', 'types', 'history-broken.ts');
  const brokenText = text.replace(/\/\/ @ts-expect-error.*\n/g, '');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], strict: true, noEmit: true, skipLibCheck: true, types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile;
  host.readFile = (f) => (f === broken ? brokenText : read(f));
  const exists = host.fileExists;
  host.fileExists = (f) => f === broken || exists(f);
  const program = ts.createProgram([file, broken], options, host);
  // only these two files are checked (src/ is type-checked by tsc), which keeps this fast
  const errors = (f: string) => {
    const sf = program.getSourceFile(f)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  };
  expect(errors(file)).toEqual([]);
  const expected = text.match(/@ts-expect-error/g)!.length;
  expect(expected).toBe(4);
  expect(errors(broken).length).toBe(expected);
});
