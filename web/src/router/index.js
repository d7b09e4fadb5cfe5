// SPDX-License-Identifier: MIT
// index.js: the routes and the sign-in guard; views are loaded lazily except the two first seen.
import { createRouter, createWebHistory } from 'vue-router'
import { useAuthStore } from '@/stores/auth.js'
import LoginView from '@/views/LoginView.vue'
import DashboardView from '@/views/DashboardView.vue'

export const routes = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
  { path: '/', name: 'dashboard', component: DashboardView },
  { path: '/sessions', name: 'sessions', component: () => import('@/views/SessionsView.vue') },
  {
    path: '/sessions/:id(\\d+)',
    name: 'session',
    component: () => import('@/views/SessionDetailView.vue'),
    props: true,
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
]

/** The app's router (HTML5 history: `serve` falls back to index.html for unknown paths). */
export function createAppRouter(history = createWebHistory()) {
  const router = createRouter({ history, routes })
  router.beforeEach((to) => {
    const auth = useAuthStore()
    if (!to.meta.public && !auth.isAuthenticated) {
      return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
    }
    if (to.name === 'login' && auth.isAuthenticated) return { name: 'dashboard' }
    return true
  })
  return router
}
