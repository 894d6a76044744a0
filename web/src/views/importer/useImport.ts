import { computed, onBeforeUnmount, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import {
  getImportRun,
  importReportUrl,
  listImportTemplates,
  previewImport,
  saveImportTemplate,
  startImportRun,
  uploadImport,
  type ImportMapping,
  type ImportPreview,
  type ImportRun,
  type ImportTemplate,
  type OnDuplicate,
} from '@/api/imports'
import { useErrors } from '@/composables/useErrors'
import { useFieldsStore } from '@/stores/fields'
import { useLabels } from '@/composables/useLabels'
import { EMAIL_LABEL_SUGGESTIONS, PHONE_LABEL_SUGGESTIONS } from '@/constants'

const POLL_MS = 500

export interface TargetOption {
  value: string
  label: string
}
export interface TargetGroup {
  label: string
  options: TargetOption[]
}

/**
 * The import wizard: upload, the detected encoding / sheet and the column mapping to adjust
 * (re-previewed on every change), templates, a dry run and the run itself, polled until it
 * ends.
 */
export function useImport() {
  const { t, locale } = useI18n()
  const { toastError } = useErrors()
  const fieldsStore = useFieldsStore()
  const labels = useLabels()

  const preview = shallowRef<ImportPreview | null>(null)
  const uploading = ref(false)
  const previewing = ref(false)
  const error = ref<unknown>(null)
  /** 'auto' = as detected. */
  const encoding = ref('auto')
  const sheet = ref('')
  /** Targets the user chose, by column ("#N"); on top of the template and the guesses. */
  const chosen = ref<ImportMapping | null>(null)
  const template = ref('')
  const templates = shallowRef<ImportTemplate[]>([])
  const onDuplicate = ref<OnDuplicate>('skip')
  const run = shallowRef<ImportRun | null>(null)
  const dryRun = shallowRef<ImportRun | null>(null)
  const starting = ref(false)
  const savingTemplate = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null
  let previewSeq = 0

  const step = computed(() => {
    if (!preview.value) return 0
    if (run.value) return 3
    if (dryRun.value) return 2
    return 1
  })

  const running = computed(() => run.value !== null && ['queued', 'running'].includes(run.value.state))
  const dryRunning = computed(() => dryRun.value !== null && ['queued', 'running'].includes(dryRun.value.state))

  async function loadTemplates(): Promise<void> {
    try {
      templates.value = (await listImportTemplates()).items
    } catch {
      templates.value = []
    }
  }

  async function upload(file: File): Promise<void> {
    uploading.value = true
    error.value = null
    reset(false)
    try {
      const [p] = await Promise.all([uploadImport(file, file.name), fieldsStore.load().catch(() => {}), loadTemplates()])
      preview.value = p
      sheet.value = p.sheet ?? ''
    } catch (e) {
      error.value = e
    } finally {
      uploading.value = false
    }
  }

  function options() {
    return {
      encoding: encoding.value === 'auto' ? null : encoding.value,
      sheet: preview.value?.format === 'xlsx' ? sheet.value || null : null,
      mapping: chosen.value,
      template: template.value || null,
    }
  }

  async function refresh(): Promise<void> {
    const p = preview.value
    if (!p) return
    const seq = ++previewSeq
    previewing.value = true
    try {
      const next = await previewImport(p.import.id, options())
      if (seq === previewSeq) {
        preview.value = next
        dryRun.value = null
      }
    } catch (e) {
      if (seq === previewSeq) toastError(e)
    } finally {
      if (seq === previewSeq) previewing.value = false
    }
  }

  function setEncoding(v: string): void {
    encoding.value = v
    void refresh()
  }

  function setSheet(v: string): void {
    sheet.value = v
    chosen.value = null
    void refresh()
  }

  /** The user picked a target for a column. */
  function setTarget(index: number, target: string): void {
    if (!preview.value) return
    chosen.value = { ...(chosen.value ?? {}), [`#${index + 1}`]: target }
    void refresh()
  }

  function applyTemplate(name: string): void {
    template.value = name
    chosen.value = null
    void refresh()
  }

  /** The current mapping by header (by position for repeated headers), as a template stores it. */
  function mappingSpec(): ImportMapping {
    const p = preview.value
    const out: ImportMapping = {}
    if (!p) return out
    const seen = new Map<string, number>()
    for (const c of p.columns) seen.set(c.header, (seen.get(c.header) ?? 0) + 1)
    for (const c of p.columns) out[(seen.get(c.header) ?? 0) > 1 || !c.header ? `#${c.index + 1}` : c.header] = c.target
    return out
  }

  async function saveTemplate(): Promise<void> {
    let name: string
    try {
      const r = await ElMessageBox.prompt(t('importer.templateNamePrompt'), t('importer.saveTemplate'), {
        confirmButtonText: t('common.save'),
        cancelButtonText: t('common.cancel'),
        inputValue: template.value || preview.value?.import.filename.replace(/\.[^.]*$/, '') || '',
        inputValidator: (v: string) => (v.trim() ? true : t('importer.templateRequired')),
      })
      name = r.value.trim()
    } catch {
      return
    }
    savingTemplate.value = true
    try {
      const saved = await saveImportTemplate(name, mappingSpec())
      template.value = saved.name
      await loadTemplates()
      ElMessage.success(t('importer.templateSaved', { name: saved.name }))
    } catch (e) {
      toastError(e)
    } finally {
      savingTemplate.value = false
    }
  }

  function stopPolling(): void {
    if (timer) clearTimeout(timer)
    timer = null
  }

  function poll(id: number, target: typeof run): void {
    stopPolling()
    timer = setTimeout(async () => {
      try {
        const r = await getImportRun(id)
        target.value = r
        if (r.state === 'queued' || r.state === 'running') poll(id, target)
      } catch (e) {
        toastError(e)
        poll(id, target)
      }
    }, POLL_MS)
  }

  async function start(dry: boolean): Promise<void> {
    const p = preview.value
    if (!p || starting.value) return
    if (!dry) {
      try {
        await ElMessageBox.confirm(t('importer.confirmStart', { name: p.import.filename }), t('importer.start'), {
          confirmButtonText: t('importer.start'),
          cancelButtonText: t('common.cancel'),
          type: 'info',
        })
      } catch {
        return
      }
    }
    starting.value = true
    try {
      const r = await startImportRun(p.import.id, { ...options(), on_duplicate: onDuplicate.value, dry_run: dry })
      const target = dry ? dryRun : run
      target.value = r
      if (r.state === 'queued' || r.state === 'running') poll(r.id, target)
    } catch (e) {
      toastError(e)
    } finally {
      starting.value = false
    }
  }

  function reportUrl(r: ImportRun): string {
    return importReportUrl(r.id, locale.value === 'en' ? 'en' : 'zh-CN')
  }

  function reset(clearPreview = true): void {
    stopPolling()
    if (clearPreview) preview.value = null
    encoding.value = 'auto'
    sheet.value = ''
    chosen.value = null
    template.value = ''
    onDuplicate.value = 'skip'
    run.value = null
    dryRun.value = null
    error.value = null
  }

  /** The choices of the mapping dropdowns, grouped. */
  const targetGroups = computed<TargetGroup[]>(() => {
    const tr = (k: string) => t(`importer.targets.${k}`)
    const opt = (v: string): TargetOption => ({ value: v, label: targetLabel(v) })
    return [
      { label: t('importer.targetGroups.basic'), options: ['name', 'code', 'company', 'title', 'gender', 'stage', 'source', 'tags', 'notes', 'owner'].map(opt) },
      {
        label: t('importer.targetGroups.contact'),
        options: [
          opt('phones'),
          ...PHONE_LABEL_SUGGESTIONS.filter((s) => s.key !== 'other').map((s) => opt(`phones:${s.value}`)),
          opt('emails'),
          ...EMAIL_LABEL_SUGGESTIONS.filter((s) => s.key !== 'other').map((s) => opt(`emails:${s.value}`)),
        ],
      },
      { label: t('importer.targetGroups.address'), options: ['province', 'city', 'district', 'address'].map(opt) },
      { label: t('importer.targetGroups.ids'), options: ['id_number', 'credit_code'].map(opt) },
      ...(fieldsStore.fields.length
        ? [{ label: t('importer.targetGroups.custom'), options: fieldsStore.fields.map((f) => ({ value: `custom.${f.name}`, label: f.label })) }]
        : []),
      { label: t('importer.targetGroups.other'), options: [{ value: 'extra', label: tr('extra') }, { value: 'ignore', label: tr('ignore') }] },
    ]
  })

  /** `phones:手机` → 电话（手机）, `custom.x` → the field's label. */
  function targetLabel(target: string): string {
    if (target.startsWith('custom.')) {
      const name = target.slice(7)
      return fieldsStore.fields.find((f) => f.name === name)?.label ?? name
    }
    const [base, label] = target.split(':')
    const baseText = t(`importer.targets.${base}`)
    if (!label) return baseText
    const labelText = base === 'phones' ? labels.phoneLabel(label) : labels.emailLabel(label)
    return locale.value === 'en' ? `${baseText} (${labelText})` : `${baseText}（${labelText}）`
  }

  onBeforeUnmount(stopPolling)

  return {
    preview,
    uploading,
    previewing,
    error,
    encoding,
    sheet,
    template,
    templates,
    onDuplicate,
    run,
    dryRun,
    starting,
    savingTemplate,
    step,
    running,
    dryRunning,
    targetGroups,
    upload,
    setEncoding,
    setSheet,
    setTarget,
    applyTemplate,
    saveTemplate,
    start,
    reportUrl,
    reset,
    targetLabel,
  }
}
