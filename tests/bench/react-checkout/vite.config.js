// Production build of the reference checkout: `npm run build` → dist/ (no source maps).
import {fileURLToPath} from 'node:url';
import react from '@vitejs/plugin-react';
import {defineConfig} from 'vite';

export default defineConfig({
  // Relative asset URLs, so dist/ can be served from any path.
  base: './',
  plugins: [react()],
  build: {outDir: 'dist', emptyOutDir: true, sourcemap: false},
  // The stylesheet is slotpay's own (www/slotpay.css), outside this package.
  server: {fs: {allow: [fileURLToPath(new URL('../../..', import.meta.url))]}},
});
