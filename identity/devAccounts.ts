// The staff accounts of the development identity provider (identity/devProvider.ts): who can sign
// in to the console on `npm start` without a real government identity platform. Each carries the
// claims a platform would release, under the default claim names the API maps
// (OIDC_ROLE_CLAIM `tongban_role`, OIDC_REGION_CLAIM `tongban_region`). The regions are the ones the
// seed items, the simulator and the tests use: cases are received in Guangzhou (440100) and
// handled in Chengdu (510100) or Sichuan (510000).
// Development only: one published password for all of them, never used anywhere else.
import type { StaffRole } from '../domain/case.js';

/** The one development password, printed by `npm start` and shown on the dev login page. */
export const DEV_PASSWORD = 'tongban-dev';

export interface DevAccount {
  /** What is typed into the login form; also the subject (`sub`) of its tokens. */
  login: string;
  password: string;
  /** Claims released with the `profile` and `tongban` scopes, by claim name. */
  claims: { name: string } & Record<string, string>;
}

/** An account whose claims use tongban's own role names and the default claim names. */
export function staffAccount(login: string, role: StaffRole | string, region: string, name: string, password = DEV_PASSWORD): DevAccount {
  return { login, password, claims: { name, tongban_role: role, tongban_region: region } };
}

export const DEV_ACCOUNTS: readonly DevAccount[] = [
  staffAccount('clerk-gd', 'clerk', '440100', '陈窗口（广州收件）'),
  staffAccount('clerk-gz2', 'clerk', '440100', '林窗口（广州收件）'),
  staffAccount('supervisor-gd', 'supervisor', '440100', '黄科长（广州）'),
  staffAccount('approver-sc', 'approver', '510100', '王审核（成都办理）'),
  staffAccount('supervisor-sc', 'supervisor', '510100', '李科长（成都）'),
  staffAccount('manager-gd', 'manager', '440000', '赵处长（广东省）'),
  // Item admins keep the national catalog; the platform is hosted in Beijing.
  staffAccount('admin', 'item_admin', '110000', '事项管理员'),
];
