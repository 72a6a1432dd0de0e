import { describe, expect, it } from 'vitest';
import { checkKeys } from '../src/data.js';
import { InputError } from '../src/errors.js';

describe('checkKeys', () => {
  const allowed = ['epochs', 'batchSize', 'validationSplit', 'shuffle'];
  it('accepts known keys and an empty object', () => {
    expect(() => checkKeys({ epochs: 1, batchSize: 2 }, allowed, 'options')).not.toThrow();
    expect(() => checkKeys({}, allowed, 'options')).not.toThrow();
  });
  it('names the unknown key and the nearest valid one', () => {
    expect(() => checkKeys({ batch_size: 32 }, allowed, 'fit options')).toThrow(InputError);
    expect(() => checkKeys({ batch_size: 32 }, allowed, 'fit options')).toThrow(/fit options\.batch_size .*did you mean 'batchSize'/);
    expect(() => checkKeys({ epoch: 3 }, allowed, 'o')).toThrow(/did you mean 'epochs'/);
  });
  it('gives no suggestion when nothing is close, but lists the valid keys', () => {
    let message = '';
    try { checkKeys({ zzzzzzzzzz: 1 }, allowed, 'o'); } catch (e) { message = (e as Error).message; }
    expect(message).not.toMatch(/did you mean/);
    expect(message).toMatch(/expected one of epochs, batchSize, validationSplit, shuffle/);
  });
  it('treats prototype names as unknown keys', () => {
    const o = JSON.parse('{"__proto__": 1, "constructor": 2}');
    expect(() => checkKeys(o, allowed, 'o')).toThrow(InputError);
  });
});
