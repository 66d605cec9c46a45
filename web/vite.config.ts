import { defineConfig } from 'vite';

// Built to web/dist and served by the service at /; `npm run dev:web` proxies the API to PORT 8080.
export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/live': { target: 'ws://127.0.0.1:8080', ws: true },
      '/media': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
});
