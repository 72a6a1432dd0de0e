/**
 * File helpers for Node only (node:fs/promises). Kept apart so that the format readers
 * (safetensors.ts, idx.ts) stay free of Node APIs and bundle for browsers and edge runtimes.
 */
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

/** @internal Test hooks: a failure injected here must leave the target untouched. */
export interface WriteFileAtomicHooks {
  /** Runs after the temporary file is written and synced, just before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

let counter = 0;

/**
 * Writes `bytes` to `path` atomically: a reader sees either the old file or the complete new
 * one, never a partial write. Writes a uniquely named temporary file in the same folder,
 * fsyncs it, renames it over `path`, then fsyncs the folder where the platform allows (so the
 * rename itself survives a crash). If anything fails before the rename, the temporary file is
 * removed and the previous file at `path` is left as it was. An existing file's permission
 * bits are kept. I/O errors are rethrown as Node reports them (ENOENT, EACCES, ...).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, hooks: WriteFileAtomicHooks = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InputError(`writeFileAtomic: path must be a non-empty string; got ${String(path)}`);
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError(`writeFileAtomic: bytes must be a Uint8Array; got ${typeof bytes}`);
  }
  const dir = dirname(path);
  let mode = 0o666; // minus the umask, as for any new file
  let keepMode = false;
  try {
    const st = await stat(path);
    if (st.isFile()) {
      mode = st.mode & 0o7777;
      keepMode = true;
    }
  } catch {
    // No file yet (or not readable): a new file gets the default mode.
  }
  const random = Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  const temp = join(dir, `.${basename(path)}.${process.pid}.${(counter++).toString(36)}.${random}.tmp`);

  let renamed = false;
  try {
    // 'wx': fail rather than reuse a file that already has this name.
    const fh = await open(temp, 'wx', mode);
    try {
      if (keepMode) await fh.chmod(mode); // the umask applied to open(); restore the exact bits
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await hooks.beforeRename?.(temp);
    await rename(temp, path);
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => {});
  }
  await syncDir(dir);
}

/** Reads a whole file as a plain Uint8Array (not a Buffer). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InputError(`readFileBytes: path must be a non-empty string; got ${String(path)}`);
  }
  const buf = await readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** fsyncs a folder so a rename in it is durable. Windows cannot open folders: skipped there. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL, EISDIR, EPERM); the rename is done.
  } finally {
    await fh.close();
  }
}
