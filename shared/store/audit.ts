// The audit trail: who did what to whom, newest first; kept 90 days past the room's deletion.
import { randomBytes } from "node:crypto";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import {
  AUDIT_ENTRY_PREFIX,
  AUDIT_TOMBSTONE_SK,
  auditEntrySk,
  auditPk,
  DAY_MS,
  epochSeconds,
  isAuditEntrySk,
} from "./keys.ts";

export const AUDIT_ACTIONS = [
  "room.created",
  "room.updated",
  "room.deleted",
  "tags.changed",
  "member.set",
  "member.removed",
  "participant.kicked",
  "user.banned",
  "user.unbanned",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  at: string;
  actor: string;
  action: AuditAction;
  target: string | null;
  detail: Record<string, unknown>;
}

export const AUDIT_RETENTION_AFTER_DELETE_MS = 90 * DAY_MS;

export async function appendAudit(db: Db, roomId: string, entry: AuditEntry): Promise<void> {
  await dynamo(() =>
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { pk: auditPk(roomId), sk: auditEntrySk(entry.at, randomBytes(6).toString("hex")), ...entry },
      }),
    ),
  );
}

/**
 * Where a page of the audit trail ended: the next page starts after it. Opaque to callers, who hand back what
 * listAudit returned (checked with isAuditPosition when it comes from a client).
 */
export type AuditPosition = string;
export const isAuditPosition = (value: unknown): value is AuditPosition => isAuditEntrySk(value);

/**
 * One page, newest first, after `after` when given. One item more than asked for is read, so that a page that ends
 * the trail says so (no cursor to an empty page); `next` is where the next page starts when more may follow.
 */
export async function listAudit(
  db: Db,
  roomId: string,
  limit: number,
  after?: AuditPosition,
): Promise<{ entries: AuditEntry[]; next: AuditPosition | undefined }> {
  const pk = auditPk(roomId);
  const out = await dynamo(() =>
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": pk, ":p": AUDIT_ENTRY_PREFIX },
        ScanIndexForward: false,
        Limit: limit + 1,
        ...(after ? { ExclusiveStartKey: { pk, sk: after } } : {}),
      }),
    ),
  );
  const items = out.Items ?? [];
  const page = items.slice(0, limit);
  const entries = page.map(
    ({ at, actor, action, target, detail }) => ({ at, actor, action, target, detail }) as AuditEntry,
  );
  const last = page[page.length - 1];
  // More than a page read: continue after the page's last entry. Fewer, yet DynamoDB stopped early (its 1 MB
  // page): continue where it stopped.
  const next = items.length > limit && last ? last.sk : out.LastEvaluatedKey?.sk;
  return { entries, next: next === undefined ? undefined : String(next) };
}

export async function markAuditOfDeletedRoom(db: Db, roomId: string, deletedBy: string, now: number): Promise<void> {
  await dynamo(() =>
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          pk: auditPk(roomId),
          sk: AUDIT_TOMBSTONE_SK,
          deletedAt: new Date(now).toISOString(),
          deletedAtMs: now,
          deletedBy,
          expiresAt: epochSeconds(now + AUDIT_RETENTION_AFTER_DELETE_MS),
        },
      }),
    ),
  );
}

/** When the room was deleted (epoch ms), if it was. */
export async function roomDeletedAt(db: Db, roomId: string): Promise<number | undefined> {
  const out = await dynamo(() =>
    db.doc.send(
      new GetCommand({
        TableName: db.table,
        Key: { pk: auditPk(roomId), sk: AUDIT_TOMBSTONE_SK },
        ConsistentRead: true,
      }),
    ),
  );
  return out.Item ? Number(out.Item.deletedAtMs) : undefined;
}
