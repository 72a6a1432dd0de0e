export declare const toolsDir: string;
export declare const PINNED: Record<'deno' | 'bun' | 'miniflare', string>;
export declare const bins: Record<'deno' | 'bun' | 'workerd', string>;
export declare function installRuntimes(): Promise<string>;
export declare function withLock<T>(dir: string, name: string, fn: () => T | Promise<T>, staleMs?: number): Promise<T>;
