// Types of scripts/mallocTuning.mjs (plain JavaScript: the binary runs it before any TypeScript loader).
export declare const MMAP_THRESHOLD_BYTES: number;
export declare function tuneMalloc(opts?: { env?: Record<string, string | undefined>; root?: string }): boolean;
export declare const PREFAULT_INTERVAL_MS: number;
export declare function startHeapPrefault(opts?: { root?: string }): boolean;
export declare const MIN_HEAP_ROOM_BYTES: number;
export declare const HEAP_RESTART_ENV: string;
export declare function heapRoom(maps: string): number | undefined;
export declare function restartIfHeapBlocked(opts?: { env?: Record<string, string | undefined>; root?: string; maps?: () => string }): number | undefined;
