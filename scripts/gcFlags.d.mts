// Types of scripts/gcFlags.mjs (plain JavaScript: the binary runs it before any TypeScript loader).
export declare const HEAP_GROWTH: string[];
export declare const ONE_CORE: string[];
export declare function gcFlagsFor(opts: { cores: number; operatorFlags: string[] }): string[];
export declare function tuneGarbageCollector(): string[];
