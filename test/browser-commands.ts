// Commands a Chromium test can run in the Node process that drives it (vitest browser mode).
export const browserCommands = {};
