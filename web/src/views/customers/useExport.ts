import { computed, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import {
  countExport,
  customerExportUrl,
  type ExportCount,
  type ExportEncoding,
  type ExportFilters,
  type ExportFormat,
} from '@/api/exports'

/**
 * The export dialog of the customer list: counts what the current filters match, offers
 * format, CSV encoding and (for users with phone.reveal) clear numbers within the reveal
 * quota, and hands the download to the browser.
 */
export function useExport(filters: () => ExportFilters) {
  const { t, locale } = useI18n()

  const open = ref(false)
  const counting = ref(false)
  const info = ref<ExportCount | null>(null)
  const error = ref<unknown>(null)
  const form = reactive<{ format: ExportFormat; encoding: ExportEncoding; reveal: boolean }>({
    format: 'xlsx',
    encoding: 'utf8',
    reveal: false,
  })

  let controller: AbortController | null = null

  /** Reveals left today; Infinity without a quota. */
  const revealsLeft = computed(() => {
    const i = info.value
    if (!i || i.reveal_quota === 0) return Number.POSITIVE_INFINITY
    return Math.max(0, i.reveal_quota - i.reveals_today)
  })
  const revealFits = computed(() => !!info.value && info.value.count <= revealsLeft.value)
  const canDownload = computed(
    () => !!info.value && info.value.count > 0 && !counting.value && (!form.reveal || revealFits.value),
  )

  async function show(): Promise<void> {
    open.value = true
    form.reveal = false
    info.value = null
    error.value = null
    controller?.abort()
    const c = new AbortController()
    controller = c
    counting.value = true
    try {
      info.value = await countExport(filters(), c.signal)
    } catch (e) {
      if (c.signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return
      error.value = e
    } finally {
      if (controller === c) counting.value = false
    }
  }

  /** Starts the download through a link, so that the browser streams it to disk. */
  function download(): void {
    if (!canDownload.value) return
    const url = customerExportUrl(filters(), {
      format: form.format,
      encoding: form.encoding,
      reveal: form.reveal && revealFits.value,
      lang: locale.value === 'en' ? 'en' : 'zh',
    })
    const a = document.createElement('a')
    a.href = url
    a.download = ''
    a.rel = 'noopener'
    document.body.appendChild(a)
    a.click()
    a.remove()
    open.value = false
    ElMessage.success(t('export.started'))
  }

  return { open, counting, info, error, form, revealsLeft, revealFits, canDownload, show, download }
}
