import { computed, ref, shallowRef } from 'vue'
import { mergeCustomers, suggestMerge, type MergeRecord, type MergeSuggestion } from '@/api/merges'

/**
 * The side-by-side review of one duplicate group: the suggestion, the survivor and a choice
 * per field (defaults: the survivor's value, or the first member's that has one), and the merge.
 */
export function useMergeReview() {
  const suggestion = shallowRef<MergeSuggestion | null>(null)
  const survivorId = ref(0)
  const choices = ref<Record<string, number>>({})
  const loading = ref(false)
  const merging = ref(false)
  const error = ref<unknown>(null)

  const members = computed(() => suggestion.value?.members.map((m) => m.customer) ?? [])
  /** Fields where the members disagree: the rows with a choice. */
  const differing = computed(() => suggestion.value?.fields.filter((f) => f.differs) ?? [])
  /** Fields where they agree (or one has a value): shown for comparison, no choice. */
  const agreeing = computed(
    () => suggestion.value?.fields.filter((f) => !f.differs && f.values.some((v) => v.value !== null)) ?? [],
  )

  const isEmpty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)

  /** The default choice of every field for the current survivor. */
  function defaults(): Record<string, number> {
    const s = suggestion.value
    if (!s) return {}
    const order = [survivorId.value, ...members.value.map((m) => m.id).filter((id) => id !== survivorId.value)]
    const out: Record<string, number> = {}
    for (const f of s.fields) {
      const value = (id: number) => f.values.find((v) => v.customer_id === id)?.value
      out[f.field] = order.find((id) => !isEmpty(value(id))) ?? survivorId.value
    }
    return out
  }

  async function open(ids: number[]): Promise<void> {
    loading.value = true
    error.value = null
    suggestion.value = null
    try {
      suggestion.value = await suggestMerge(ids)
      survivorId.value = suggestion.value.survivor_id
      choices.value = defaults()
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function setSurvivor(id: number): void {
    survivorId.value = id
    choices.value = defaults()
  }

  async function merge(): Promise<MergeRecord> {
    merging.value = true
    try {
      const ms = members.value
      // Only differing fields are sent; the server's defaults equal ours for the others.
      const sent: Record<string, number> = {}
      for (const f of differing.value) sent[f.field] = choices.value[f.field] ?? survivorId.value
      return await mergeCustomers({
        survivor_id: survivorId.value,
        loser_ids: ms.map((m) => m.id).filter((id) => id !== survivorId.value),
        choices: sent,
        versions: Object.fromEntries(ms.map((m) => [String(m.id), m.version])),
      })
    } finally {
      merging.value = false
    }
  }

  return { suggestion, survivorId, choices, loading, merging, error, members, differing, agreeing, open, setSurvivor, merge }
}
