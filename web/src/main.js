// SPDX-License-Identifier: MIT
// main.js: creates the app: Pinia, the router, the API client's token and 401 hooks.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'uplot/dist/uPlot.min.css'
import './style.css'
import App from './App.vue'
import { createAppRouter } from './router/index.js'
import { useAuthStore } from './stores/auth.js'
import { setTokenGetter, setUnauthorizedHandler } from './api/index.js'

const app = createApp(App)
app.use(createPinia())

const auth = useAuthStore()
auth.restore()
setTokenGetter(() => auth.token)
setUnauthorizedHandler((message) => {
  if (auth.isAuthenticated) auth.logout(message)
})
window.addEventListener('storage', auth.onStorage)

app.use(createAppRouter())
app.mount('#app')
