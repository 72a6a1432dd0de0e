/**
 * Typed errors. Every error the library throws on purpose is a LatentError; its subclass says
 * which kind of mistake it is, and its message names the argument and what was expected.
 */
export class LatentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** An argument has the wrong type, range or value (including NaN/Infinity in data). */
export class InputError extends LatentError {}
/** Sizes disagree: a width that is not the model's input size, ragged rows, a bad shape. */
export class ShapeError extends LatentError {}
/** A byte stream is not a valid model or tensor file. */
export class FormatError extends LatentError {}
/** A model or tensor was used after dispose(). */
export class DisposedError extends LatentError {}
/** The WebAssembly core is missing, or the engine lacks a feature it needs. */
export class RuntimeError extends LatentError {}
/** Training produced a non-finite loss; the weights are those of the last good step. */
export class TrainingError extends LatentError {}
