import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { i18n } from '@/locales'

declare module 'vue-router' {
  interface RouteMeta {
    /** Locale key of the page title. */
    title?: string
    /** Reachable without a session. */
    public?: boolean
    /** Only administrators see it in the menu (the server enforces the rest). */
    admin?: boolean
    /** Which side menu entry is highlighted. */
    menu?: string
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/auth/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  {
    path: '/',
    component: () => import('@/views/layout/AppLayout.vue'),
    children: [
      { path: '', redirect: { name: 'customers' } },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/views/customers/CustomerListView.vue'),
        meta: { title: 'list.title', menu: 'customers' },
      },
      {
        path: 'customers/new',
        name: 'customer-new',
        component: () => import('@/views/customers/CustomerFormView.vue'),
        meta: { title: 'form.newTitle', menu: 'customers' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer',
        component: () => import('@/views/customers/CustomerDetailView.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: { title: 'list.title', menu: 'customers' },
      },
      {
        path: 'customers/:id(\\d+)/edit',
        name: 'customer-edit',
        component: () => import('@/views/customers/CustomerFormView.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: { title: 'form.editTitle', menu: 'customers' },
      },
      {
        path: 'recycle-bin',
        name: 'recycle-bin',
        component: () => import('@/views/recycle/RecycleBinView.vue'),
        meta: { title: 'recycle.title', menu: 'recycle-bin' },
      },
      {
        path: 'fields',
        name: 'fields',
        component: () => import('@/views/fields/FieldsView.vue'),
        meta: { title: 'fields.title', menu: 'fields', admin: true },
      },
      {
        path: 'tokens',
        name: 'tokens',
        component: () => import('@/views/tokens/TokensView.vue'),
        meta: { title: 'tokens.title', menu: 'tokens' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/errors/NotFoundView.vue'),
        meta: { title: 'notFound.title' },
      },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior(_to, _from, saved) {
    return saved ?? { top: 0 }
  },
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  if (!auth.checked) {
    try {
      await auth.fetchMe()
    } catch {
      // Server unreachable or broken: show the login page, which reports the problem
      // when the user tries to sign in.
    }
  }
  if (to.meta.public) {
    if (to.name === 'login' && auth.isLoggedIn) {
      const redirect = typeof to.query.redirect === 'string' ? to.query.redirect : ''
      return redirect.startsWith('/') && !redirect.startsWith('//') ? redirect : { name: 'customers' }
    }
    return true
  }
  if (!auth.isLoggedIn) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  return true
})

export function pageTitle(key: string | undefined): string {
  const t = i18n.global.t
  const app = t('app.fullName')
  return key ? `${t(key)} · ${app}` : app
}

router.afterEach((to) => {
  document.title = pageTitle(to.meta.title)
})
