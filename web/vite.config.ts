import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The API server a developer runs locally (`kehu serve --listen 127.0.0.1:8080`).
const apiTarget = process.env.KEHU_API ?? 'http://127.0.0.1:8080'

/** Every Element Plus component style entry, as the on-demand imports name them. */
function elementStyleEntries(): string[] {
  const dir = fileURLToPath(new URL('./node_modules/element-plus/es/components', import.meta.url))
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((name) => existsSync(`${dir}/${name}/style/css.mjs`))
    .map((name) => `element-plus/es/components/${name}/style/css`)
}

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus components used in templates are imported on demand, with their CSS.
    // The generated declaration file is checked in so that vue-tsc sees the component types.
    Components({
      dts: 'src/components.d.ts',
      dirs: [],
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // vue-i18n: Composition API only, no devtools in production. Messages are compiled
    // by the JIT compiler (no eval), so the page works under a strict CSP.
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __INTLIFY_JIT_COMPILATION__: 'true',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  // Pre-bundle every Element Plus style entry up front, so the dev server does not
  // discover them one page at a time and reload the browser each time.
  optimizeDeps: {
    include: [
      'vue',
      'vue-router',
      'pinia',
      'vue-i18n',
      'dayjs/locale/zh-cn',
      '@element-plus/icons-vue',
      'element-plus/es',
      ...elementStyleEntries(),
      'element-plus/es/locale/lang/zh-cn',
      'element-plus/es/locale/lang/en',
    ],
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/healthz': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    target: 'es2022',
    cssCodeSplit: true,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // Shared Element Plus chunks would be named after their first module
        // (".../style/css.mjs"); call them what they are.
        chunkFileNames: (chunk) => `assets/${chunk.name === 'css' ? 'ui' : '[name]'}-[hash].js`,
        assetFileNames: (asset) =>
          `assets/${/^css(\.css)?$/.test(asset.names[0] ?? '') ? 'ui' : '[name]'}-[hash][extname]`,
        codeSplitting: {
          groups: [
            {
              name: 'vendor-vue',
              test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/,
              priority: 3,
            },
            {
              name: 'vendor-element',
              test: /node_modules[\\/](element-plus|@element-plus|@vueuse|@floating-ui|@popperjs|@ctrl|dayjs|lodash-es|lodash-unified|async-validator|memoize-one|normalize-wheel-es)[\\/]/,
              priority: 2,
              // Only what most pages share goes here; components few pages use stay in
              // those pages' chunks, so the login page does not load the table or date picker.
              minShareCount: 5,
            },
          ],
        },
      },
    },
  },
})
