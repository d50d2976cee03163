import { describe, expect, it } from "vitest";
import { useStack } from "../support/stack.ts";

const stack = useStack();

describe("offline stack smoke", () => {
  it("serves health, login, a room and a token that joins", async () => {
    const s = stack();
    const health = await s.api("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    const alice = await s.login("alice");
    const room = await s.createRoom(alice, { name: "smoke" });
    const token = await s.api("POST", `/rooms/${room.roomId}/token`, { as: alice });
    expect(token.status).toBe(200);
    expect(token.headers.get("cache-control")).toBe("no-store");
    const joined = await s.join(token.body.token);
    expect(joined.status).toBe(200);
    expect(joined.body.participantId).toBe(token.body.participantId);
  });
});
