import type { Policy } from "./policy.ts";

/** A room as stored: one IVS stage plus its rules. */
export interface RoomRecord {
  roomId: string;
  stageArn: string;
  name: string;
  title?: string;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
  policy: Policy;
  tags: Record<string, string>;
  /** The stage's endpoints, kept so that self-signed tokens need no IVS call. */
  endpoints: { events?: string; whip?: string };
  /** Optimistic-locking counter. */
  version: number;
}

/** The stage id is the part of the stage ARN after `:stage/`. */
export const stageIdOf = (stageArn: string): string => stageArn.slice(stageArn.lastIndexOf("/") + 1);
