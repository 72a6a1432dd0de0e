import { parseArgs } from 'node:util';
import { UsageError } from './errors.mjs';

/**
 * Parses argv for one command with node:util parseArgs (strict: unknown flags are errors).
 * `options` maps flag names to parseArgs option configs; every command also takes --help.
 * `positionals` names the arguments; a trailing '?' marks an optional one.
 */
export function parse(argv, options, positionals) {
  const { values, positionals: pos } = parseArgs({
    args: argv,
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { help: true, values, positionals: pos };
  const required = positionals.filter((p) => !p.endsWith('?')).length;
  if (pos.length < required || pos.length > positionals.length) {
    const want = positionals.map((p) => (p.endsWith('?') ? `[${p.slice(0, -1)}]` : `<${p}>`)).join(' ');
    throw new UsageError(`expected ${want}; got ${pos.length} argument${pos.length === 1 ? '' : 's'}`);
  }
  return { help: false, values, positionals: pos };
}

/** A number flag: integer (≥ min) or real (in [min, max]); the error names the flag. */
export function num(values, name, fallback, { integer = false, min = -Infinity, max = Infinity } = {}) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const what = integer ? 'an integer' : 'a number';
    const range = max === Infinity ? (min === -Infinity ? '' : ` ≥ ${min}`) : ` in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be ${what}${range}; got '${raw}'`);
  }
  return v;
}

/** A comma-separated list of positive integers (--hidden 256,64). */
export function intList(values, name, fallback) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (raw.trim() === '') return [];
  return raw.split(',').map((s) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be positive integers separated by commas; got '${raw}'`);
    return v;
  });
}

/** One of a fixed set of words. */
export function choice(values, name, allowed, fallback) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got '${raw}'`);
  return raw;
}
