// Builders for Chinese identifiers with correct check characters, so tests need no fixtures.

// 居民身份证号 (GB 11643): 17 digits + ISO 7064 MOD 11-2 check character.
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

export function residentIdCheck(first17) {
  if (!/^\d{17}$/.test(first17)) throw new Error(`need 17 digits: ${first17}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

// region (6 digits) + birth date YYYYMMDD + 3-digit sequence.
export function residentId(region, birth, seq) {
  const first17 = `${region}${birth}${String(seq).padStart(3, '0')}`;
  return first17 + residentIdCheck(first17);
}

// The same number with a different (wrong) check character.
export function breakCheck(id, alphabet) {
  const last = id[id.length - 1];
  const other = [...alphabet].find((c) => c !== last);
  return id.slice(0, -1) + other;
}

// 统一社会信用代码 (GB 32100-2015): 18 characters from the alphabet below; the 9th–17th are the
// organisation code (GB 11714, with its own check character); the 18th is a mod-31 check.
export const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeCheck(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_ALPHABET.indexOf(first17[i]);
    if (v < 0) throw new Error(`bad character ${first17[i]} in ${first17}`);
    sum += v * CREDIT_WEIGHTS[i];
  }
  return CREDIT_ALPHABET[(31 - (sum % 31)) % 31];
}

// GB 11714 organisation code check character for 8 characters (digits and capitals).
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
export function orgCodeCheck(first8) {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const c = first8[i];
    const v = /\d/.test(c) ? Number(c) : c.charCodeAt(0) - 55; // A=10 … Z=35
    sum += v * ORG_WEIGHTS[i];
  }
  const r = 11 - (sum % 11);
  return r === 10 ? 'X' : r === 11 ? '0' : String(r);
}

// dept (1 char) + kind (1 char) + region (6 digits) + organisation code body (8 chars).
// Picks organisation code bodies until its check character is in the credit-code alphabet.
export function creditCode(dept, kind, region, orgBody) {
  const org = orgBody + orgCodeCheck(orgBody);
  const first17 = `${dept}${kind}${region}${org}`;
  return first17 + creditCodeCheck(first17);
}
