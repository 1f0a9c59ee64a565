/**
 * The API reference at /docs: Redoc's standalone bundle (a classic script
 * that web/vite.config.ts copies into dist/assets/ and loads before this
 * module) renders the service's own OpenAPI document, /openapi.json.
 *
 * Everything stays on this origin: Redoc 2 loads no fonts (the theme names
 * system fonts only) and sends no telemetry. Search is off because Redoc runs
 * it in a Worker built from a blob: URL, which the page's CSP does not allow.
 */
interface RedocGlobal {
  init(specOrUrl: string, options: Record<string, unknown>, element: HTMLElement | null, callback?: (error?: unknown) => void): void;
}

const SYSTEM_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

const redoc = (globalThis as { Redoc?: RedocGlobal }).Redoc;
const root = document.getElementById('redoc');
if (!redoc) {
  if (root) root.textContent = 'The API reference could not load its renderer. The OpenAPI document is at /openapi.json.';
} else {
  redoc.init('/openapi.json', {
    disableSearch: true,
    expandResponses: '200,201,202',
    hideHostname: false,
    theme: {
      typography: {
        fontFamily: SYSTEM_FONTS,
        headings: { fontFamily: SYSTEM_FONTS },
        code: { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
      },
    },
  }, root);
}
