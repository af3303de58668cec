// Types of scripts/processTuning.mjs (plain JavaScript: the binary runs it before any TypeScript loader).
export declare function tuneGatewayProcess(): void;
