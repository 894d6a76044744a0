// Suggested values of free-text customer fields (docs/api.md). These are stored data,
// always in Chinese; each has a locale key under sourceValue / phoneLabel / emailLabel
// so that the UI can show them in the user's language.

export interface Suggestion {
  value: string
  key: string
}

export const SOURCE_SUGGESTIONS: readonly Suggestion[] = [
  { value: '展会', key: 'trade_show' },
  { value: '官网', key: 'website' },
  { value: '电话咨询', key: 'phone_inquiry' },
  { value: '转介绍', key: 'referral' },
  { value: '广告', key: 'advertising' },
  { value: '社交媒体', key: 'social_media' },
  { value: '老客户', key: 'existing_customer' },
  { value: '其他', key: 'other' },
]

export const PHONE_LABEL_SUGGESTIONS: readonly Suggestion[] = [
  { value: '手机', key: 'mobile' },
  { value: '办公', key: 'office' },
  { value: '家庭', key: 'home' },
  { value: '传真', key: 'fax' },
  { value: '其他', key: 'other' },
]

export const EMAIL_LABEL_SUGGESTIONS: readonly Suggestion[] = [
  { value: '工作', key: 'work' },
  { value: '个人', key: 'personal' },
  { value: '其他', key: 'other' },
]

/** Times are shown in this zone (DESIGN.md: users' zone, default Asia/Shanghai). */
export const DISPLAY_TIME_ZONE = 'Asia/Shanghai'
/** Offset of DISPLAY_TIME_ZONE in minutes (China has no daylight saving time). */
export const DISPLAY_TZ_OFFSET_MINUTES = 8 * 60

/** Page size of customer lists. */
export const PAGE_SIZE = 50

/** Narrower than this, the layout switches to the phone layout (drawer menu, cards). */
export const MOBILE_MAX_WIDTH = 768
