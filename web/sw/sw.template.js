/*
 * The verify page's service worker (docs/verify.md, "Offline and private"),
 * written into web/dist/sw.js by the build (web/vite.config.ts), which fills
 * in FILES (the verify page and the assets it loads) and CACHE (named after
 * their hashes). Once the page has been opened, it opens again without a
 * network: navigations to `/` go to the network first and fall back to the
 * copy kept here; the hashed assets are served from here. Nothing else is
 * touched: API requests always go to the service, and the page's trust
 * material stays pinned in localStorage, as without the worker.
 */
const CACHE = '__CACHE__';
const FILES = __FILES__;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('ledgerseal-verify-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === '/') {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            event.waitUntil(caches.open(CACHE).then((cache) => cache.put('/', copy)));
          }
          return response;
        })
        .catch(() => caches.match('/', { cacheName: CACHE }).then((cached) => cached || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') && FILES.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((cached) => cached || fetch(request)));
  }
});
