/**
 * The built verify page on disk (web/dist, written by `npm run build:web`),
 * as the WebFiles reader the app serves it through (functions/api/web.ts).
 * Paths are resolved under the directory and anything escaping it is absent.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { WebFiles } from '../api/web.ts';

/** web/dist of this checkout. */
export const WEB_DIST = resolve(import.meta.dirname, '../../web/dist');

export function diskWebFiles(dir: string = WEB_DIST): WebFiles {
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
