import { DISPLAY_TIME_ZONE, DISPLAY_TZ_OFFSET_MINUTES } from '@/constants'

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>()

function formatter(locale: string, withTime: boolean, withSeconds = false): Intl.DateTimeFormat {
  const key = `${locale}|${withTime}|${withSeconds}`
  let f = dateTimeFormats.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: DISPLAY_TIME_ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' as const } : {}),
      ...(withSeconds ? { second: '2-digit' } : {}),
    })
    dateTimeFormats.set(key, f)
  }
  return f
}

function parts(d: Date, withTime: boolean, withSeconds = false): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of formatter('en-US', withTime, withSeconds).formatToParts(d)) out[p.type] = p.value
  return out
}

/**
 * "2026-11-22 23:14" in the display zone, in every language (the form business users
 * read fastest); empty input gives an empty string. `locale` is kept for the day a
 * language needs another order.
 */
export function formatDateTime(iso: string | null | undefined, _locale?: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = parts(d, true)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

/** "2026-11-22 23:14:08" in the display zone: for the audit log, where seconds matter. */
export function formatDateTimeSeconds(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = parts(d, true, true)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** The UTC instant where the day after `day` starts: an exclusive end for a range of days. */
export function dayEndExclusiveUtc(day: string): string {
  return new Date(Date.parse(dayToUtc(day)) + 86_400_000).toISOString()
}

/** "2026-11-22" in the display zone. */
export function formatDate(iso: string | null | undefined, _locale?: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = parts(d, false)
  return `${p.year}-${p.month}-${p.day}`
}

/**
 * Turns a calendar day (YYYY-MM-DD, in the display zone) into the UTC instant where it
 * starts, or — with endOfDay — the last millisecond of it, as RFC 3339 for the API.
 */
export function dayToUtc(day: string, endOfDay = false): string {
  const [y, m, d] = day.split('-').map(Number)
  const startUtc = Date.UTC(y, m - 1, d) - DISPLAY_TZ_OFFSET_MINUTES * 60_000
  const t = endOfDay ? startUtc + 86_400_000 - 1 : startUtc
  return new Date(t).toISOString()
}

/** Text for an avatar: the first character (a Chinese surname or a Latin initial). */
export function initials(name: string): string {
  const first = Array.from(name.trim())[0]
  return first ? first.toUpperCase() : '?'
}
