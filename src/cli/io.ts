// Where a command writes: standard output for results, standard error for problems.
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}
