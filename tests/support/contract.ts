// Values the tests take from docs/api.md itself, written out once and never imported from the code they check
// (tests/unit/api-contract.test.ts checks that they are docs/api.md's).

/** The default room policy, as docs/api.md's "Rooms, roles and rules" shows it. */
export const CONTRACT_DEFAULT_POLICY = {
  access: "open",
  defaultRole: "viewer",
  groupRoles: {},
  roles: {
    host: { capabilities: ["PUBLISH", "SUBSCRIBE"], moderator: true, maxDurationMinutes: 720 },
    speaker: { capabilities: ["PUBLISH", "SUBSCRIBE"], moderator: false, maxDurationMinutes: 240 },
    viewer: { capabilities: ["SUBSCRIBE"], moderator: false, maxDurationMinutes: 240 },
  },
  defaultDurationMinutes: 60,
  allowedAttributes: ["displayName", "avatarUrl"],
  // Live rooms (capacity): at most IVS's 12 publishers by default; no participant limit unless set.
  maxPublishers: 12,
};
