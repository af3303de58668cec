// In-memory rendition storage served under /stream/<session>/<profile>/<seq>.<ext>; like
// go-livepeer's memory store it keeps only the last 12 objects per (session, profile).
export const MAX_OBJECTS_PER_PROFILE = 12;

export class RenditionStore {
  private readonly dirs = new Map<string, Map<string, Buffer>>();

  put(sessionId: string, profile: string, file: string, data: Buffer): void {
    const key = `${sessionId}/${profile}`;
    let dir = this.dirs.get(key);
    if (!dir) {
      dir = new Map();
      this.dirs.set(key, dir);
    }
    dir.delete(file);
    dir.set(file, data);
    while (dir.size > MAX_OBJECTS_PER_PROFILE) dir.delete(dir.keys().next().value!);
  }

  get(sessionId: string, profile: string, file: string): Buffer | undefined {
    return this.dirs.get(`${sessionId}/${profile}`)?.get(file);
  }

  dropSession(sessionId: string): void {
    for (const key of this.dirs.keys()) if (key.startsWith(`${sessionId}/`)) this.dirs.delete(key);
  }
}
