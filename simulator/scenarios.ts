// Scenarios: how a simulated province behaves, per province by default or per case by rule.
import { z } from 'zod';

export const SCENARIOS = [
  'approve',
  'reject',
  'slow',
  'flaky',
  'down',
  'lost-callback',
  'duplicate-callback',
  'elicence-invalid',
  // The review sends one correction notice, waits for its answer, then approves.
  'correction',
  // Two notices, each waiting for its answer, then approval.
  'correction-2',
  // An art. 45 procedure (review.procedure_started, later review.procedure_ended), then approval.
  'procedure',
  // Approval; a result sent by mail comes back undelivered (delivery.returned instead of delivery.received).
  'mail-returned',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** What a rule can match on. Every field given must equal the subject's; `{}` matches everything. */
export const OPERATIONS = ['case', 'create', 'material', 'submit', 'elicence-verify'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface RuleMatch {
  /** The province the request is made to (a rule for one province leaves the others alone). */
  province?: string;
  /**
   * What the request does: an e-licence check, or a request about a case: `create`, a `material`
   * upload, `submit`, or any other (`case`). A rule for `case` matches every request about a case.
   */
  operation?: Operation;
  caseId?: string;
  applicantName?: string;
  itemCode?: string;
}

export interface ScenarioRule {
  match: RuleMatch;
  scenario: Scenario;
}

/** What a request is about, as far as rules can tell (fields unknown for the request are absent). */
export type Subject = RuleMatch;

export const scenarioSchema = z.enum(SCENARIOS);

export const scenarioRuleSchema = z.object({
  match: z.strictObject({ province: z.string().optional(), operation: z.enum(OPERATIONS).optional(), caseId: z.string().optional(), applicantName: z.string().optional(), itemCode: z.string().optional() }),
  scenario: scenarioSchema,
});

export function ruleMatches(rule: ScenarioRule, subject: Subject): boolean {
  const op = rule.match.operation;
  if (op !== undefined && op !== subject.operation && !(op === 'case' && subject.operation !== undefined && subject.operation !== 'elicence-verify')) return false;
  return (['province', 'caseId', 'applicantName', 'itemCode'] as const).every((field) => rule.match[field] === undefined || rule.match[field] === subject[field]);
}

/** The first matching rule wins over the province default. */
export function resolveScenario(rules: readonly ScenarioRule[], provinceDefault: Scenario, subject: Subject): Scenario {
  return rules.find((rule) => ruleMatches(rule, subject))?.scenario ?? provinceDefault;
}
