import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { ElMessage } from 'element-plus'
import { useAuthStore } from '@/stores/auth'
import { i18n } from '@/locales'
import type { Permission } from '@/api/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Locale key of the page title. */
    title?: string
    /** Reachable without a session. */
    public?: boolean
    /**
     * Only users with this permission see the menu entry, and the guard sends the others to
     * the customer list (the server enforces the rest).
     */
    perm?: Permission
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
        meta: { title: 'recycle.title', menu: 'recycle-bin', perm: 'customer.delete' },
      },
      {
        path: 'duplicates',
        name: 'duplicates',
        component: () => import('@/views/dedup/DuplicatesView.vue'),
        meta: { title: 'dedup.title', menu: 'duplicates', perm: 'customer.merge' },
      },
      {
        path: 'fields',
        name: 'fields',
        component: () => import('@/views/fields/FieldsView.vue'),
        meta: { title: 'fields.title', menu: 'fields', perm: 'field.manage' },
      },
      {
        path: 'tokens',
        name: 'tokens',
        component: () => import('@/views/tokens/TokensView.vue'),
        meta: { title: 'tokens.title', menu: 'tokens' },
      },
      {
        path: 'import',
        name: 'import',
        component: () => import('@/views/importer/ImportView.vue'),
        meta: { title: 'importer.title', menu: 'import', perm: 'customer.import' },
      },
      {
        path: 'quality',
        name: 'quality',
        component: () => import('@/views/quality/QualityView.vue'),
        meta: { title: 'quality.title', menu: 'quality', perm: 'customer.read' },
      },
      {
        path: 'security',
        name: 'security',
        component: () => import('@/views/security/SecurityView.vue'),
        meta: { title: 'security.title', menu: 'security' },
      },
      {
        path: 'admin/users',
        name: 'users',
        component: () => import('@/views/users/UsersView.vue'),
        meta: { title: 'users.title', menu: 'users', perm: 'user.admin' },
      },
      {
        path: 'admin/teams',
        name: 'teams',
        component: () => import('@/views/teams/TeamsView.vue'),
        meta: { title: 'teams.title', menu: 'teams', perm: 'user.admin' },
      },
      {
        path: 'admin/roles',
        name: 'roles',
        component: () => import('@/views/roles/RolesView.vue'),
        meta: { title: 'roles.title', menu: 'roles', perm: 'user.admin' },
      },
      {
        path: 'admin/audit',
        name: 'audit',
        component: () => import('@/views/audit/AuditView.vue'),
        meta: { title: 'audit.title', menu: 'audit', perm: 'audit.read' },
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
  // The role requires two-step verification and the user has none: the session may only
  // enrol, on 我的安全.
  if (auth.mfaEnrollmentRequired && to.name !== 'security') {
    return { name: 'security' }
  }
  // A page the role does not allow (an old bookmark, a role changed meanwhile): the
  // customer list rather than a page of 403s.
  const perm = to.meta.perm
  if (perm && !auth.can(perm)) {
    ElMessage.warning({ message: i18n.global.t('errors.pageForbidden'), grouping: true })
    return to.name === 'customers' ? true : { name: 'customers' }
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
