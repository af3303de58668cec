// What `-version` prints.
export const VERSION = '0.1.0';
export const VERSION_TEXT = `livepeer-gateway ${VERSION} (node ${process.version}, ${process.arch}, ${process.platform})`;
