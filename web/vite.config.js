// SPDX-License-Identifier: MIT
// vite.config.js: build, dev-server proxy and Vitest settings of the web app; no app logic here.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import tailwindcss from '@tailwindcss/vite'

// The dev server forwards the API and the WebSocket to a running `beamtel serve`, so that
// `npm run dev` works against real telemetry with hot reload.
const server = process.env.BEAMTEL_SERVER || 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue(), tailwindcss()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/ws': { target: server, ws: true, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Assets carry a content hash in their names (Vite's default) so `serve` may cache them long.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.spec.js'],
    watch: false,
    restoreMocks: true,
  },
})
