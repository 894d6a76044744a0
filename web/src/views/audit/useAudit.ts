import { computed, reactive, ref, shallowRef, watch } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import {
  auditExportUrl,
  listAudit,
  verifyAudit,
  type AuditEntry,
  type AuditFilters,
  type AuditVerification,
} from '@/api/audit'
import type { FieldType } from '@/api/fields'
import { useUsersStore } from '@/stores/users'
import { useLabels } from '@/composables/useLabels'
import { PAGE_SIZE } from '@/constants'
import { dayEndExclusiveUtc, dayToUtc } from '@/utils/format'

/** Action groups of the filter: the part before the dot, sent as the prefix `group.`. */
export const AUDIT_GROUPS = ['auth', 'customer', 'user', 'team', 'role', 'token', 'field', 'settings', 'dedup', 'alert'] as const

export interface AuditFilterState {
  /** '' (all), a prefix ending in '.', or an exact action. */
  action: string
  actorId: number | null
  /** YYYY-MM-DD in the display zone; '' when open. */
  from: string
  to: string
}

/** One `key: value` of an entry's details, ready to show. */
export interface DetailPart {
  key: string
  label: string
  value: string
}

const DAY = /^\d{4}-\d{2}-\d{2}$/
const ACTION = /^[a-z_]+(\.[a-z_]*)?$/

function str(v: LocationQuery[string]): string {
  return typeof v === 'string' ? v : ''
}

function filtersFromQuery(q: LocationQuery): AuditFilterState {
  const action = str(q.action)
  const actor = Number(str(q.actor))
  const from = str(q.from)
  const to = str(q.to)
  return {
    action: ACTION.test(action) ? action : '',
    actorId: Number.isInteger(actor) && actor > 0 ? actor : null,
    from: DAY.test(from) ? from : '',
    to: DAY.test(to) ? to : '',
  }
}

function filtersToQuery(f: AuditFilterState): Record<string, string> {
  const out: Record<string, string> = {}
  if (f.action) out.action = f.action
  if (f.actorId) out.actor = String(f.actorId)
  if (f.from) out.from = f.from
  if (f.to) out.to = f.to
  return out
}

function apiFilters(f: AuditFilterState): AuditFilters {
  return {
    action: f.action || undefined,
    actor_id: f.actorId ?? undefined,
    from: f.from ? dayToUtc(f.from) : undefined,
    to: f.to ? dayEndExclusiveUtc(f.to) : undefined,
  }
}

/** Names of changed fields, per entity, as the UI calls them. */
const FIELD_LABELS: Record<string, Record<string, string>> = {
  user: {
    display_name: 'users.displayName',
    role: 'users.role',
    team_id: 'users.team',
    active: 'users.status',
    password: 'users.password',
  },
  role: {
    name: 'roles.name',
    permissions: 'roles.permission',
    scope: 'roles.scope',
    reveal_quota: 'roles.revealQuota',
    ip_allow: 'roles.ipAllow',
  },
  team: {
    name: 'teams.name',
    parent_id: 'teams.parent',
  },
}

/**
 * The audit log page (audit.read): filters mirrored in the URL, newest first with "load
 * more", the chain verification and the export links for the current filters.
 */
export function useAudit() {
  const { t, te } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const users = useUsersStore()
  const labels = useLabels()

  const filters = reactive<AuditFilterState>(filtersFromQuery(route.query))
  const items = shallowRef<AuditEntry[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)

  const verifying = ref(false)
  const verification = ref<AuditVerification | null>(null)
  const verifyError = ref<unknown>(null)

  let controller: AbortController | null = null

  /** The group options, plus the action in the URL when it is an exact one. */
  const actionOptions = computed(() => {
    const opts: { value: string; label: string }[] = AUDIT_GROUPS.map((g) => ({
      value: `${g}.`,
      label: labels.auditGroup(g),
    }))
    if (filters.action && !filters.action.endsWith('.')) {
      opts.push({ value: filters.action, label: labels.auditAction(filters.action) })
    }
    return opts
  })

  const hasFilters = computed(() => !!(filters.action || filters.actorId || filters.from || filters.to))

  async function fetchPage(cursor: string | null): Promise<void> {
    controller?.abort()
    const c = new AbortController()
    controller = c
    error.value = null
    try {
      const page = await listAudit(
        { ...apiFilters(filters), limit: PAGE_SIZE, cursor: cursor ?? undefined },
        c.signal,
      )
      if (c.signal.aborted) return
      items.value = cursor ? [...items.value, ...page.items] : page.items
      nextCursor.value = page.next_cursor
      loaded.value = true
    } catch (e) {
      if (c.signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return
      error.value = e
      if (!cursor) {
        items.value = []
        nextCursor.value = null
      }
    }
  }

  async function search(): Promise<void> {
    const query = filtersToQuery(filters)
    if (JSON.stringify(query) !== JSON.stringify(filtersToQuery(filtersFromQuery(route.query)))) {
      void router.replace({ query })
    }
    loading.value = true
    try {
      await fetchPage(null)
    } finally {
      loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value || loadingMore.value) return
    loadingMore.value = true
    try {
      await fetchPage(nextCursor.value)
    } finally {
      loadingMore.value = false
    }
  }

  function resetFilters(): void {
    Object.assign(filters, { action: '', actorId: null, from: '', to: '' })
  }

  watch(
    () => [filters.action, filters.actorId, filters.from, filters.to],
    () => void search(),
  )

  // The header's alert link leads here with ?action=alert. — also while the page is open.
  watch(
    () => route.query,
    (q) => {
      if (route.name !== 'audit') return
      const next = filtersFromQuery(q)
      if (JSON.stringify(filtersToQuery(next)) !== JSON.stringify(filtersToQuery(filters))) {
        Object.assign(filters, next)
      }
    },
  )

  const range = computed<[string, string] | null>({
    get: (): [string, string] | null => (filters.from && filters.to ? [filters.from, filters.to] : null),
    set: (v: [string, string] | null) => {
      filters.from = v?.[0] ?? ''
      filters.to = v?.[1] ?? ''
    },
  })

  async function verify(): Promise<void> {
    verifying.value = true
    verifyError.value = null
    try {
      verification.value = await verifyAudit()
    } catch (e) {
      verification.value = null
      verifyError.value = e
    } finally {
      verifying.value = false
    }
  }

  const csvUrl = computed(() => auditExportUrl(apiFilters(filters), 'csv'))
  const jsonUrl = computed(() => auditExportUrl(apiFilters(filters), 'json'))

  // --- showing entries ------------------------------------------------------------------

  function actorName(e: AuditEntry): string {
    if (e.actor_id === 0) return e.actor_name === 'local-admin' ? t('audit.localAdmin') : e.actor_name
    return users.nameOf(e.actor_id) ?? e.actor_name
  }

  function fieldLabel(entity: string, f: string): string {
    const key = FIELD_LABELS[entity]?.[f] ?? (entity === 'customer' ? `customer.${f}` : '')
    return key && te(key) ? t(key) : f
  }

  function value(e: AuditEntry, key: string, v: unknown): string {
    if (v === null || v === undefined || v === '') return t('common.none')
    if (key === 'fields' && Array.isArray(v)) return v.map((f) => fieldLabel(e.entity, String(f))).join(t('common.listSeparator'))
    if (key === 'permissions' && Array.isArray(v)) {
      return v.length ? v.map((p) => labels.permission(String(p))).join(t('common.listSeparator')) : t('common.none')
    }
    if (key === 'scope' && typeof v === 'string') return labels.scope(v as 'own' | 'team' | 'all')
    if (key === 'role' && typeof v === 'string') return labels.role(v)
    if ((key === 'reveal_quota' || key === 'quota') && v === 0) return t('roles.unlimited')
    if (key === 'active' && typeof v === 'boolean') return v ? t('users.active') : t('users.inactive')
    if (key === 'ip_allow' && Array.isArray(v) && v.length === 0) return t('roles.ipAllowAnywhere')
    if (key === 'type' && e.entity === 'field' && typeof v === 'string') return labels.fieldType(v as FieldType)
    if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no')
    if (Array.isArray(v) && v.length === 0) return t('common.none')
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(t('common.listSeparator'))
    if (typeof v === 'object') return JSON.stringify(v)
    return String(v)
  }

  /** The details as labelled parts (the raw JSON stays available as a tooltip). */
  function details(e: AuditEntry): DetailPart[] {
    const d = e.details && typeof e.details === 'object' ? e.details : {}
    return (
      Object.entries(d)
        // An empty list of changed fields says nothing (e.g. only the team changed).
        .filter(([k, v]) => !(k === 'fields' && Array.isArray(v) && v.length === 0))
        .map(([k, v]) => ({
          key: k,
          label: te(`auditDetail.${k}`) ? t(`auditDetail.${k}`) : k,
          value: value(e, k, v),
        }))
    )
  }

  return {
    filters,
    range,
    items,
    nextCursor,
    loading,
    loadingMore,
    loaded,
    error,
    actionOptions,
    hasFilters,
    verifying,
    verification,
    verifyError,
    csvUrl,
    jsonUrl,
    search,
    loadMore,
    resetFilters,
    verify,
    actorName,
    details,
  }
}
