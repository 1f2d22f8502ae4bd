// Administrative division codes (GB/T 2260). Province-level codes are fixed by the standard;
// city and county codes are accepted when their province prefix is known.

export const PROVINCES: Readonly<Record<string, string>> = {
  '110000': '北京市', '120000': '天津市', '130000': '河北省', '140000': '山西省', '150000': '内蒙古自治区',
  '210000': '辽宁省', '220000': '吉林省', '230000': '黑龙江省',
  '310000': '上海市', '320000': '江苏省', '330000': '浙江省', '340000': '安徽省', '350000': '福建省', '360000': '江西省', '370000': '山东省',
  '410000': '河南省', '420000': '湖北省', '430000': '湖南省', '440000': '广东省', '450000': '广西壮族自治区', '460000': '海南省',
  '500000': '重庆市', '510000': '四川省', '520000': '贵州省', '530000': '云南省', '540000': '西藏自治区',
  '610000': '陕西省', '620000': '甘肃省', '630000': '青海省', '640000': '宁夏回族自治区', '650000': '新疆维吾尔自治区',
  '710000': '台湾省', '810000': '香港特别行政区', '820000': '澳门特别行政区',
};

export function isProvinceCode(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(PROVINCES, code);
}

/** A six-digit division code whose province is known (440000, 440100, 440106 ...). */
export function isRegionCode(code: string): boolean {
  return /^\d{6}$/.test(code) && isProvinceCode(provinceOf(code));
}

/** The province-level code a division code belongs to: 440106 → 440000. */
export function provinceOf(code: string): string {
  return `${code.slice(0, 2)}0000`;
}

/**
 * The prefix every region under `scope` starts with: a province (xx0000) covers every code
 * starting with xx, a city (xxyy00) every code starting with xxyy, anything else only itself.
 */
function scopePrefix(scope: string): { prefix: string; exact: boolean } {
  if (scope.endsWith('0000')) return { prefix: scope.slice(0, 2), exact: false };
  if (scope.endsWith('00')) return { prefix: scope.slice(0, 4), exact: false };
  return { prefix: scope, exact: true };
}

/** Whether a staff member scoped to `scope` may see a case in `region` (a province covers its cities). */
export function regionCovers(scope: string, region: string): boolean {
  const { prefix, exact } = scopePrefix(scope);
  return exact ? region === prefix : region.startsWith(prefix);
}

/**
 * A SQL LIKE pattern with exactly regionCovers' semantics (kept for evaluation_follow_ups, a small
 * table with no generated scope columns, and for the read benchmark's "before" figures; queries
 * over `cases` use domain/regionScope.ts), for queries over region columns.
 * Scopes come from verified tokens and are division codes (digits only), so nothing needs
 * escaping; anything else is refused rather than turned into a pattern.
 */
export function regionLikePattern(scope: string): string {
  if (!/^\d{6}$/.test(scope)) throw new Error(`not a division code: ${JSON.stringify(scope)}`);
  const { prefix, exact } = scopePrefix(scope);
  return exact ? prefix : `${prefix}%`;
}
