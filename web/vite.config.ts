import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/** The dashboard: built into dist/web, which the server serves at `/` (npm run build runs this). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Everything is a file of this server: nothing inlined that the Content-Security-Policy would have to allow.
    assetsInlineLimit: 0,
    target: 'es2020',
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development, next to `npm start` on :3000.
    proxy: { '/api': 'http://localhost:3000', '/auth': 'http://localhost:3000' },
  },
});
