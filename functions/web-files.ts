/**
 * The built web front on disk (web/dist, written by `npm run build:web`), as
 * the WebFiles reader the app serves it through (functions/api/web.ts). Platform
 * code shared by the two platforms: the local runner reads the checkout's
 * web/dist (functions/local/runner.ts), the API function on Lambda the copy SST
 * packages next to its handler (functions/aws/web-dist.ts). Paths are resolved
 * under the directory and anything escaping it is absent.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { WebFiles } from './api/web.ts';

export function diskWebFiles(dir: string): WebFiles {
  const root = resolve(dir);
  return async (path) => {
    const file = resolve(root, path);
    if (!file.startsWith(root + sep)) return undefined;
    try {
      return new Uint8Array(await readFile(file));
    } catch {
      return undefined;
    }
  };
}
