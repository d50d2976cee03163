/** Injected failures and latency for the next calls of an operation (POST /_emulator/faults). */
import { isOperationName, OPERATION_NAMES } from "./model.ts";
import type { OperationName } from "./model.ts";

export const FAULT_STATUSES = [429, 500, 503] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

export interface FaultRule {
  operation: OperationName;
  /** Fail with this status; absent: only add latency. */
  status?: FaultStatus;
  /** How many more calls this rule applies to. */
  remaining: number;
  delayMs: number;
}

export const MAX_FAULT_COUNT = 1_000_000;
export const MAX_FAULT_DELAY_MS = 120_000;

/** Parses a fault request body; a message describing the problem when it is not valid. */
export function parseFaultRule(body: unknown): FaultRule | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "Body must be a JSON object.";
  const { operation, status, count, delayMs } = body as Record<string, unknown>;
  if (!isOperationName(operation)) return `operation must be one of: ${OPERATION_NAMES.join(", ")}.`;
  if (status !== undefined && !(FAULT_STATUSES as readonly unknown[]).includes(status)) {
    return `status must be one of ${FAULT_STATUSES.join(", ")}.`;
  }
  if (
    count !== undefined &&
    !(Number.isSafeInteger(count) && (count as number) >= 1 && (count as number) <= MAX_FAULT_COUNT)
  ) {
    return `count must be an integer from 1 to ${MAX_FAULT_COUNT}.`;
  }
  if (
    delayMs !== undefined &&
    !(Number.isSafeInteger(delayMs) && (delayMs as number) >= 0 && (delayMs as number) <= MAX_FAULT_DELAY_MS)
  ) {
    return `delayMs must be an integer from 0 to ${MAX_FAULT_DELAY_MS}.`;
  }
  if (status === undefined && delayMs === undefined) return "Give status, delayMs or both.";
  const rule: FaultRule = {
    operation,
    remaining: (count as number | undefined) ?? 1,
    delayMs: (delayMs as number | undefined) ?? 0,
  };
  if (status !== undefined) rule.status = status as FaultStatus;
  return rule;
}

export class FaultInjector {
  private rules: FaultRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push(rule);
  }

  clear(): void {
    this.rules = [];
  }

  /** The rule that applies to this call of `operation` (consuming one use of it), if any. Rules apply in order. */
  take(operation: OperationName): { status?: FaultStatus; delayMs: number } | undefined {
    const index = this.rules.findIndex((r) => r.operation === operation);
    if (index < 0) return undefined;
    const rule = this.rules[index]!;
    rule.remaining--;
    if (rule.remaining <= 0) this.rules.splice(index, 1);
    return rule.status === undefined ? { delayMs: rule.delayMs } : { status: rule.status, delayMs: rule.delayMs };
  }

  pending(): Array<Readonly<FaultRule>> {
    return this.rules.map((r) => ({ ...r }));
  }
}
