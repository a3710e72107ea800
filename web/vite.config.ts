import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Preact's JSX through esbuild directly: no Babel preset needed for a plain Preact app.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // ECharts (core, three chart types, canvas) is one ~590 kB chunk, ~200 kB gzipped: loaded with the first chart only.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 700 },
  server: {
    // `npx vite web` during development: the API of a running `npm start`. The Host header is kept
    // (changeOrigin: false) so the API's origin check sees the page's own origin.
    proxy: Object.fromEntries(['/api', '/health', '/docs', '/openapi.json'].map((path) => [path, { target: 'http://127.0.0.1:8080', changeOrigin: false }])),
  },
});
