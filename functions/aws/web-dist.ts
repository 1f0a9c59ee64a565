/**
 * Where the API function finds the web front on Lambda (docs/deploy.md "The
 * web front"). sst.config.ts copies the checkout's web/dist into the API
 * function's package (`copyFiles`, to PACKAGED_WEB_DIST) as plain files next
 * to the handler's bundle, never into the bundle itself (the JS bundle has a
 * 1 MB budget, and Redoc's standalone file alone is 1.1 MB). `copyFiles`
 * destinations are relative to the package root, which Lambda extracts to
 * LAMBDA_TASK_ROOT (/var/task). Only the API function gets the files.
 */
import { resolve } from 'node:path';
import type { Env } from '../config.ts';

/** The directory, relative to the function package's root, that sst.config.ts copies web/dist to. */
export const PACKAGED_WEB_DIST = 'web/dist';

/**
 * The packaged web/dist: under LAMBDA_TASK_ROOT on Lambda. Elsewhere (the
 * handlers invoked in process by the tests) the package is the checkout, whose
 * layout the package repeats. The bundle is never run outside Lambda without
 * LAMBDA_TASK_ROOT: bundled, this module's own directory is the handler's.
 */
export function packagedWebDist(env: Env = process.env): string {
  // The checkout's root is two levels up from functions/aws/ (computed here, not at load:
  // sst.config.ts imports this module for PACKAGED_WEB_DIST alone).
  return resolve(env.LAMBDA_TASK_ROOT || resolve(import.meta.dirname, '../..'), PACKAGED_WEB_DIST);
}
