import { computed, reactive, ref, shallowRef, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import {
  listCustomers,
  STAGES,
  type Customer,
  type CustomerQuery,
  type CustomerSort,
  type SortOrder,
  type Stage,
} from '@/api/customers'
import { PAGE_SIZE } from '@/constants'
import { dayToUtc } from '@/utils/format'

export interface CustomerFilters {
  q: string
  stage: Stage | ''
  source: string
  province: string
  city: string
  owner_id: number | null
  /** First and last day of creation, YYYY-MM-DD in the display zone; '' when open. */
  createdFrom: string
  createdTo: string
  sort: CustomerSort
  order: SortOrder
}

const SORTS: readonly CustomerSort[] = ['created_at', 'updated_at', 'name', 'code']
const DAY = /^\d{4}-\d{2}-\d{2}$/

function emptyFilters(): CustomerFilters {
  return {
    q: '',
    stage: '',
    source: '',
    province: '',
    city: '',
    owner_id: null,
    createdFrom: '',
    createdTo: '',
    sort: 'created_at',
    order: 'desc',
  }
}

function str(v: LocationQuery[string]): string {
  return typeof v === 'string' ? v : ''
}

/** Filters from the address bar, so a filtered list can be bookmarked and survives Back. */
function filtersFromQuery(q: LocationQuery): CustomerFilters {
  const f = emptyFilters()
  f.q = str(q.q)
  const stage = str(q.stage)
  if ((STAGES as readonly string[]).includes(stage)) f.stage = stage as Stage
  f.source = str(q.source)
  f.province = str(q.province)
  f.city = str(q.city)
  const owner = Number(str(q.owner))
  if (Number.isInteger(owner) && owner > 0) f.owner_id = owner
  const from = str(q.from)
  const to = str(q.to)
  if (DAY.test(from)) f.createdFrom = from
  if (DAY.test(to)) f.createdTo = to
  const sort = str(q.sort)
  if ((SORTS as readonly string[]).includes(sort)) f.sort = sort as CustomerSort
  if (str(q.order) === 'asc') f.order = 'asc'
  return f
}

function filtersToQuery(f: CustomerFilters): Record<string, string> {
  const out: Record<string, string> = {}
  if (f.q.trim()) out.q = f.q.trim()
  if (f.stage) out.stage = f.stage
  if (f.source) out.source = f.source
  if (f.province.trim()) out.province = f.province.trim()
  if (f.city.trim()) out.city = f.city.trim()
  if (f.owner_id) out.owner = String(f.owner_id)
  if (f.createdFrom) out.from = f.createdFrom
  if (f.createdTo) out.to = f.createdTo
  if (f.sort !== 'created_at') out.sort = f.sort
  if (f.order !== 'desc') out.order = f.order
  return out
}

/** The list query of these filters (also what an export of the list takes). */
export function apiQuery(f: CustomerFilters): CustomerQuery {
  return {
    limit: PAGE_SIZE,
    q: f.q.trim() || undefined,
    stage: f.stage || undefined,
    source: f.source || undefined,
    province: f.province.trim() || undefined,
    city: f.city.trim() || undefined,
    owner_id: f.owner_id ?? undefined,
    created_from: f.createdFrom ? dayToUtc(f.createdFrom) : undefined,
    created_to: f.createdTo ? dayToUtc(f.createdTo, true) : undefined,
    sort: f.sort,
    order: f.order,
  }
}

/**
 * The customer list page: filters (mirrored in the URL), cursor pagination with
 * "load more", and a request that is cancelled when a newer one starts.
 */
export function useCustomers() {
  const route = useRoute()
  const router = useRouter()

  const filters = reactive<CustomerFilters>(filtersFromQuery(route.query))
  const items = shallowRef<Customer[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = ref<unknown>(null)
  /** True once the first page has answered. */
  const loaded = ref(false)

  let controller: AbortController | null = null

  const activeFilterCount = computed(() => {
    let n = 0
    if (filters.stage) n++
    if (filters.source) n++
    if (filters.province.trim()) n++
    if (filters.city.trim()) n++
    if (filters.owner_id) n++
    if (filters.createdFrom || filters.createdTo) n++
    return n
  })
  const hasFilters = computed(() => activeFilterCount.value > 0 || filters.q.trim() !== '')

  async function fetchPage(cursor: string | null): Promise<void> {
    controller?.abort()
    const c = new AbortController()
    controller = c
    error.value = null
    try {
      const page = await listCustomers({ ...apiQuery(filters), cursor: cursor ?? undefined }, c.signal)
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

  /** Reloads the first page with the current filters and writes them to the URL. */
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
    Object.assign(filters, emptyFilters())
    void search()
  }

  // Typing in the search box searches after a short pause; other filters search at once.
  let qTimer: ReturnType<typeof setTimeout> | undefined
  watch(
    () => filters.q,
    () => {
      clearTimeout(qTimer)
      qTimer = setTimeout(() => void search(), 350)
    },
  )
  watch(
    () => [
      filters.stage,
      filters.source,
      filters.owner_id,
      filters.createdFrom,
      filters.createdTo,
      filters.sort,
      filters.order,
    ],
    () => void search(),
  )

  /** Province and city are typed: search when the input is left or Enter is pressed. */
  function commitText(): void {
    void search()
  }

  function searchNow(): void {
    clearTimeout(qTimer)
    void search()
  }

  /** Both ends as the pair a range picker edits; null when neither is set. */
  const createdRange = computed<[string, string] | null>({
    get: (): [string, string] | null =>
      filters.createdFrom && filters.createdTo ? [filters.createdFrom, filters.createdTo] : null,
    set: (v: [string, string] | null) => {
      filters.createdFrom = v?.[0] ?? ''
      filters.createdTo = v?.[1] ?? ''
    },
  })

  return {
    filters,
    createdRange,
    items,
    nextCursor,
    loading,
    loadingMore,
    loaded,
    error,
    activeFilterCount,
    hasFilters,
    search,
    searchNow,
    loadMore,
    resetFilters,
    commitText,
  }
}
