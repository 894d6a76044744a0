import { ref } from 'vue'
import { defineStore } from 'pinia'
import { listFields, type Field } from '@/api/fields'

/** The custom field definitions of customers, in display order. */
export const useFieldsStore = defineStore('fields', () => {
  const fields = ref<Field[]>([])
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  function load(force = false): Promise<void> {
    if (loaded.value && !force) return Promise.resolve()
    if (!pending) {
      pending = listFields()
        .then((res) => {
          fields.value = res.items
            .filter((f) => f.entity === 'customer')
            .sort((a, b) => a.position - b.position || a.id - b.id)
          loaded.value = true
        })
        .finally(() => {
          pending = null
        })
    }
    return pending
  }

  function reset(): void {
    fields.value = []
    loaded.value = false
  }

  return { fields, loaded, load, reset }
})
