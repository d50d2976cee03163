// Members of a room and their roles.
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { queryPartition } from "./query.ts";
import { MEMBER_PREFIX, memberSk, roomPk, userRoomsKey } from "./keys.ts";

export interface Member {
  userId: string;
  role: string;
  addedBy: string;
  addedAt: string;
}

const toMember = (item: Record<string, unknown>): Member => ({
  userId: String(item.userId),
  role: String(item.role),
  addedBy: String(item.addedBy),
  addedAt: String(item.addedAt),
});

export async function getMember(db: Db, roomId: string, userId: string): Promise<Member | undefined> {
  const out = await dynamo(() =>
    db.doc.send(
      new GetCommand({ TableName: db.table, Key: { pk: roomPk(roomId), sk: memberSk(userId) }, ConsistentRead: true }),
    ),
  );
  return out.Item ? toMember(out.Item) : undefined;
}

export async function listMembers(db: Db, roomId: string): Promise<Member[]> {
  return (await queryPartition(db, roomPk(roomId), { prefix: MEMBER_PREFIX })).map(toMember);
}

/** Writes the member, listed among the user's rooms. Whether the room still exists is not checked (the caller read it). */
export async function putMember(db: Db, roomId: string, member: Member): Promise<void> {
  await dynamo(() =>
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          pk: roomPk(roomId),
          sk: memberSk(member.userId),
          gsi1pk: userRoomsKey(member.userId),
          gsi1sk: roomId,
          ...member,
        },
      }),
    ),
  );
}

/** Deletes the member; returns the deleted member, or undefined when there was none. */
export async function deleteMember(db: Db, roomId: string, userId: string): Promise<Member | undefined> {
  const out = await dynamo(() =>
    db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: { pk: roomPk(roomId), sk: memberSk(userId) },
        ReturnValues: "ALL_OLD",
      }),
    ),
  );
  return out.Attributes ? toMember(out.Attributes) : undefined;
}
