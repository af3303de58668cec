// Types of scripts/dist.mjs (plain JavaScript, so the binary runs without a TypeScript loader).
export declare const ROOT: string;
export declare function sourceHash(root?: string): string | undefined;
export declare function distIsCurrent(root?: string): boolean;
export declare function buildDist(opts?: { root?: string; force?: boolean }): 'current' | 'built' | 'no-typescript';
