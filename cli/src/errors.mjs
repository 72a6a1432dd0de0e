/** A mistake in how the command was called (exit code 2, as for usage errors). */
export class UsageError extends Error {}

/** Bad input the command found itself (a data file it cannot use): exit code 1. */
export class DataError extends Error {}

/** Ctrl-C: training stopped after the current batch (exit code 130, as shells report SIGINT). */
export class Interrupted extends Error {}

const FS_ERRORS = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENOSPC: 'no space left on the device',
};

/** The one line printed for an error (never a stack trace, unless LATENT_WASM_DEBUG is set). */
export function errorLine(e) {
  if (e instanceof Error && typeof e.code === 'string' && FS_ERRORS[e.code] && typeof e.path === 'string') {
    return `${e.path}: ${FS_ERRORS[e.code]}`;
  }
  if (e instanceof Error && e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(e.message)?.[1];
    if (flag) return `unknown flag '${flag}'`;
  }
  const message = e instanceof Error ? e.message : String(e);
  // one line: the libraries' messages are, but keep the first line of any other
  return message.split('\n')[0];
}

/** Exit code for an error: 2 for usage, 130 for Ctrl-C, 1 otherwise. */
export function exitCode(e) {
  if (e instanceof UsageError || (e instanceof Error && String(e.code).startsWith('ERR_PARSE_ARGS'))) return 2;
  if (e instanceof Interrupted) return 130;
  return 1;
}
