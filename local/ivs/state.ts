/**
 * The emulator's in-memory account: stages, the participants they issued or saw join, imported public keys and
 * tags. Every rule of the service the emulator reproduces lives here; server.ts only maps HTTP onto it.
 */
import { createHash, createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { conflict, notFound, quotaExceeded, validationError } from "./errors.ts";
import { randomEndpointLabel, randomResourceId, randomSessionId } from "./ids.ts";
import {
  CAPABILITY_VALUES,
  DEFAULT_LIST_MAX_RESULTS,
  DEFAULT_TOKEN_DURATION_MINUTES,
  MAX_ATTRIBUTES_BYTES,
  MAX_TAGS_PER_RESOURCE,
} from "./model.ts";
import type { Capability, ParticipantRecordingState, ParticipantState } from "./model.ts";
import {
  participantDetailJson,
  participantEventJson,
  participantSummaryJson,
  stageSessionJson,
  StageLive,
} from "./sessions.ts";
import type {
  ConnectedToken,
  ParticipantDetailJson,
  ParticipantEventJson,
  ParticipantSummaryJson,
  SessionParticipant,
  StageSessionJson,
  StageUpdate,
} from "./sessions.ts";
import { decodeJwt, isP384PublicKey, signEs384Jwt, verifyEs384 } from "./tokens.ts";
import type { SigningKey } from "./tokens.ts";

// ---------------------------------------------------------------------------------------------------------------
// Wire shapes (as the model names them)
// ---------------------------------------------------------------------------------------------------------------

export type Tags = Record<string, string>;

export interface StageEndpoints {
  events: string;
  whip: string;
  rtmp: string;
  rtmps: string;
}

export interface RecordingConfiguration {
  storageConfigurationArn: string;
  mediaTypes?: string[];
  thumbnailConfiguration?: { targetIntervalSeconds?: number; storage?: string[]; recordingMode?: string };
  recordingReconnectWindowSeconds?: number;
  hlsConfiguration?: { targetSegmentDurationSeconds?: number };
  recordParticipantReplicas?: boolean;
}

export interface StageJson {
  arn: string;
  name: string;
  activeSessionId?: string;
  tags: Tags;
  endpoints: StageEndpoints;
  autoParticipantRecordingConfiguration?: RecordingConfiguration;
}

export interface StageSummaryJson {
  arn: string;
  name: string;
  activeSessionId?: string;
  tags: Tags;
}

export interface TokenConfiguration {
  duration?: number;
  userId?: string;
  attributes?: Record<string, string>;
  capabilities?: Capability[];
}

export interface ParticipantTokenJson {
  participantId: string;
  token: string;
  userId?: string;
  attributes?: Record<string, string>;
  duration: number;
  capabilities: Capability[];
  expirationTime: string;
}

export interface PublicKeyJson {
  arn: string;
  name: string;
  publicKeyMaterial: string;
  fingerprint: string;
  tags: Tags;
}

export interface PublicKeySummaryJson {
  arn: string;
  name: string;
  tags: Tags;
}

export type { ParticipantState };

/** A participant as the emulator-only participants route shows it. */
export interface ParticipantJson {
  participantId: string;
  userId: string;
  state: ParticipantState;
  capabilities: Capability[];
  publishing: boolean;
}

export type JoinResult =
  | { ok: true; participantId: string; stageArn: string; sessionId: string }
  | { ok: false; status: 400 | 401 | 403 | 404; message: string };

/** Why an exchange was refused (the emulator's own codes; the SDK reports these as errors of `exchangeToken`). */
export type ExchangeRefusal =
  | "BAD_REQUEST"
  | "NOT_JOINED"
  | "NOT_CONNECTED"
  | "DISCONNECTED"
  | "NOT_KEY_PAIR_TOKEN"
  | "INVALID_TOKEN"
  | "EXPIRED"
  | "IMMUTABLE_CLAIM_CHANGED";

export type ExchangeResult =
  | {
      ok: true;
      participant: {
        participantId: string;
        stageArn: string;
        sessionId: string;
        state: ParticipantState;
        publishing: boolean;
        userId: string;
        attributes: Record<string, string>;
        capabilities: Capability[];
        expirationTime: string;
      };
    }
  | { ok: false; status: 400 | 401 | 403 | 404 | 409; reason: ExchangeRefusal; message: string };

/** The claims a token exchange must keep (IVS user guide, "IVS Broadcast SDK: Token Exchange"). */
const IMMUTABLE_CLAIMS = ["topic", "resource", "jti", "whip_url", "events_url"] as const;

/** A token that passed verifyToken. */
interface VerifiedToken {
  ok: true;
  keyPair: boolean;
  participantId: string;
  stageArn: string;
  claims: Record<string, unknown>;
  connected: ConnectedToken;
}

// ---------------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------------

interface IssuedParticipant {
  participantId: string;
  userId: string;
  attributes: Record<string, string>;
  capabilities: Capability[];
}

interface StageRecord {
  seq: number;
  id: string;
  arn: string;
  name: string;
  tags: Map<string, string>;
  endpoints: StageEndpoints;
  recording?: RecordingConfiguration;
  deleted: boolean;
  /** Participant ids this stage issued tokens for (CreateParticipantToken / CreateStage). */
  issued: Map<string, IssuedParticipant>;
  /** Participant ids disconnected (revoked for good), joined or not. */
  revoked: Set<string>;
  /** Sessions, and everyone who has joined (see sessions.ts). */
  live: StageLive;
}

interface PublicKeyRecord {
  seq: number;
  arn: string;
  name: string;
  material: string;
  fingerprint: string;
  der: string;
  key: KeyObject;
  tags: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------------------------

const STAGE_ARN = /^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stage\/([a-zA-Z0-9-]+)$/;
/** A participant id as the model's ParticipantTokenId allows it, non-empty. */
const PARTICIPANT_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----\r?\n([a-zA-Z0-9+/=\r\n]+)\r?\n-----END PUBLIC KEY-----/;
const EVENTS_URL = "wss://global.events.live-video.net";

const ALL_CAPABILITIES: readonly Capability[] = CAPABILITY_VALUES;

function tagsJson(tags: Map<string, string>): Tags {
  return Object.fromEntries(tags);
}

function orderedCapabilities(list: readonly Capability[]): Capability[] {
  return ALL_CAPABILITIES.filter((c) => list.includes(c));
}

function fingerprintOf(der: Buffer): string {
  return createHash("md5").update(der).digest("hex").match(/../g)!.join(":");
}

type ListKind = "stages" | "public-keys" | "participants" | "participant-events" | "stage-sessions";

interface PageOptions {
  /**
   * What the listing is of (stage, session, filters): a token is only good for the request it continues, as the
   * service's are. Empty for the account-wide lists.
   */
  scope?: string;
  /** Newest (highest sequence number) first. */
  descending?: boolean;
}

/** A short digest of a list request's scope, so that tokens stay short whatever the filters. */
function scopeDigest(scope: string): string {
  return scope === "" ? "" : createHash("sha256").update(scope).digest("base64url").slice(0, 16);
}

function encodePageToken(kind: ListKind, afterSeq: number, scope: string): string {
  const value: Record<string, unknown> = { v: 1, k: kind, a: afterSeq };
  if (scope !== "") value.s = scopeDigest(scope);
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/**
 * The sequence number a page token continues after (undefined: from the start); ValidationException for a token
 * we did not hand out, or one handed out for another listing.
 */
function decodePageToken(kind: ListKind, token: string | undefined, scope: string): number | undefined {
  if (token === undefined || token === "") return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null) {
      const { v, k, a, s } = value as { v?: unknown; k?: unknown; a?: unknown; s?: unknown };
      const sameScope = scope === "" ? s === undefined : s === scopeDigest(scope);
      if (v === 1 && k === kind && sameScope && typeof a === "number" && Number.isSafeInteger(a) && a >= 0) return a;
    }
  } catch {
    // fall through
  }
  throw validationError("The nextToken is not valid.");
}

function page<T extends { seq: number }>(
  kind: ListKind,
  all: Iterable<T>,
  maxResults: number | undefined,
  nextToken: string | undefined,
  options: PageOptions = {},
): { items: T[]; nextToken?: string } {
  const scope = options.scope ?? "";
  const descending = options.descending ?? false;
  const after = decodePageToken(kind, nextToken, scope);
  const limit = maxResults ?? DEFAULT_LIST_MAX_RESULTS;
  const rest = [...all]
    .filter((r) => after === undefined || (descending ? r.seq < after : r.seq > after))
    .sort((a, b) => (descending ? b.seq - a.seq : a.seq - b.seq));
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  return rest.length > limit && last ? { items, nextToken: encodePageToken(kind, last.seq, scope) } : { items };
}

function checkAttributesSize(attributes: Record<string, string> | undefined, path: string): void {
  if (!attributes) return;
  const bytes = Buffer.byteLength(JSON.stringify(attributes), "utf8");
  if (bytes > MAX_ATTRIBUTES_BYTES) {
    throw validationError(
      `1 validation error detected: Value at '${path}' failed to satisfy constraint: ` +
        `Member must have a total size (UTF-8 JSON) less than or equal to ${MAX_ATTRIBUTES_BYTES} bytes (was ${bytes})`,
    );
  }
}

function withRecordingDefaults(config: RecordingConfiguration): RecordingConfiguration {
  return {
    storageConfigurationArn: config.storageConfigurationArn,
    mediaTypes: config.mediaTypes ?? ["AUDIO_VIDEO"],
    thumbnailConfiguration: {
      targetIntervalSeconds: config.thumbnailConfiguration?.targetIntervalSeconds ?? 60,
      storage: config.thumbnailConfiguration?.storage ?? ["SEQUENTIAL"],
      recordingMode: config.thumbnailConfiguration?.recordingMode ?? "INTERVAL",
    },
    recordingReconnectWindowSeconds: config.recordingReconnectWindowSeconds ?? 0,
    hlsConfiguration: { targetSegmentDurationSeconds: config.hlsConfiguration?.targetSegmentDurationSeconds ?? 6 },
    recordParticipantReplicas: config.recordParticipantReplicas ?? false,
  };
}

export interface IvsStateOptions {
  region: string;
  accountId: string;
  maxStages: number;
  signingKey: SigningKey;
  now?: () => number;
  /** Told of every change IVS reports to EventBridge (publish, unpublish, publish error). */
  onStageUpdate?: (update: StageUpdate) => void;
}

/** What a simulated client's leave / publish / unpublish answers. */
export type ClientActionResult =
  | {
      ok: true;
      /** The participant afterwards, with the session it is (or was last) in. */
      participant: {
        participantId: string;
        stageArn: string;
        sessionId: string;
        state: ParticipantState;
        publishing: boolean;
      };
    }
  | {
      ok: false;
      status: 400 | 403 | 404 | 409;
      message: string;
      /** The IVS broadcast SDK's StageError for a refused publish (its `code` and `category`). */
      stageError?: { code: "TOKEN_NOT_ALLOWED" | "STAGE_AT_CAPACITY"; category: "PUBLISH_ERROR" };
    };

export class IvsState {
  private readonly region: string;
  private readonly accountId: string;
  private readonly maxStages: number;
  private readonly signingKey: SigningKey;
  private readonly now: () => number;
  private readonly onStageUpdate: (update: StageUpdate) => void;
  private seq = 0;
  /** Live stages by ARN. */
  private readonly stages = new Map<string, StageRecord>();
  /** Every stage ever created by id, deleted ones included (for the participants route). */
  private readonly stagesById = new Map<string, StageRecord>();
  private readonly publicKeys = new Map<string, PublicKeyRecord>();
  private readonly usedIds = new Set<string>();
  private readonly usedSessionIds = new Set<string>();
  /** Live stages each participant id has joined (a self-signed jti is chosen by the customer: it may repeat). */
  private readonly stagesJoinedBy = new Map<string, Set<StageRecord>>();

  constructor(options: IvsStateOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.maxStages = options.maxStages;
    this.signingKey = options.signingKey;
    // Read the clock through Date.now() at each use, so that tests that mock Date (vi.setSystemTime) see it.
    this.now = options.now ?? (() => Date.now());
    this.onStageUpdate = options.onStageUpdate ?? (() => {});
  }

  private uniqueSessionId(): string {
    for (;;) {
      const id = randomSessionId();
      if (!this.usedSessionIds.has(id)) {
        this.usedSessionIds.add(id);
        return id;
      }
    }
  }

  private uniqueId(): string {
    for (;;) {
      const id = randomResourceId();
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
  }

  private arn(type: "stage" | "public-key", id: string): string {
    return `arn:aws:ivs:${this.region}:${this.accountId}:${type}/${id}`;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Stages
  // -------------------------------------------------------------------------------------------------------------

  private stageJson(stage: StageRecord): StageJson {
    const json: StageJson = {
      arn: stage.arn,
      name: stage.name,
      tags: tagsJson(stage.tags),
      endpoints: { ...stage.endpoints },
    };
    if (stage.live.activeSessionId) json.activeSessionId = stage.live.activeSessionId;
    if (stage.recording) json.autoParticipantRecordingConfiguration = structuredClone(stage.recording);
    return json;
  }

  private stageSummaryJson(stage: StageRecord): StageSummaryJson {
    const json: StageSummaryJson = { arn: stage.arn, name: stage.name, tags: tagsJson(stage.tags) };
    if (stage.live.activeSessionId) json.activeSessionId = stage.live.activeSessionId;
    return json;
  }

  private liveStage(arn: string): StageRecord {
    const stage = this.stages.get(arn);
    if (!stage) throw notFound(`Stage not found: ${arn}`);
    return stage;
  }

  createStage(input: {
    name?: string;
    tags?: Tags;
    participantTokenConfigurations?: TokenConfiguration[];
    autoParticipantRecordingConfiguration?: RecordingConfiguration;
  }): { stage: StageJson; participantTokens: ParticipantTokenJson[] } {
    (input.participantTokenConfigurations ?? []).forEach((c, i) =>
      checkAttributesSize(c.attributes, `participantTokenConfigurations.${i + 1}.member.attributes`),
    );
    if (this.stages.size >= this.maxStages) {
      throw quotaExceeded(`Limit of ${this.maxStages} stages per account and region reached.`);
    }
    const id = this.uniqueId();
    const label = randomEndpointLabel();
    const arn = this.arn("stage", id);
    const stage: StageRecord = {
      seq: ++this.seq,
      id,
      arn,
      name: input.name ?? "",
      tags: new Map(Object.entries(input.tags ?? {})),
      endpoints: {
        events: EVENTS_URL,
        whip: `https://${label}.global-bm.whip.live-video.net`,
        rtmp: `rtmp://${label}.global-contribute.live-video.net/app/`,
        rtmps: `rtmps://${label}.global-contribute.live-video.net:443/app/`,
      },
      deleted: false,
      issued: new Map(),
      revoked: new Set(),
      live: new StageLive({
        stageArn: arn,
        now: () => this.now(),
        nextSeq: () => ++this.seq,
        newSessionId: () => this.uniqueSessionId(),
        emit: (update) => this.onStageUpdate(update),
      }),
    };
    if (input.autoParticipantRecordingConfiguration) {
      stage.recording = withRecordingDefaults(input.autoParticipantRecordingConfiguration);
    }
    this.stages.set(stage.arn, stage);
    this.stagesById.set(stage.id, stage);
    const participantTokens = (input.participantTokenConfigurations ?? []).map((c) => this.issueToken(stage, c));
    return { stage: this.stageJson(stage), participantTokens };
  }

  getStage(arn: string): StageJson {
    return this.stageJson(this.liveStage(arn));
  }

  updateStage(input: {
    arn: string;
    name?: string;
    autoParticipantRecordingConfiguration?: RecordingConfiguration;
  }): StageJson {
    const stage = this.liveStage(input.arn);
    if (input.name !== undefined) stage.name = input.name;
    if (input.autoParticipantRecordingConfiguration) {
      stage.recording = withRecordingDefaults(input.autoParticipantRecordingConfiguration);
    }
    return this.stageJson(stage);
  }

  deleteStage(arn: string): void {
    const stage = this.liveStage(arn);
    for (const id of stage.issued.keys()) stage.revoked.add(id);
    for (const participant of stage.live.everyone()) {
      stage.revoked.add(participant.participantId);
      this.stagesJoinedBy.get(participant.participantId)?.delete(stage);
    }
    stage.live.leaveAll();
    stage.deleted = true;
    this.stages.delete(arn);
  }

  listStages(input: { maxResults?: number; nextToken?: string }): { stages: StageSummaryJson[]; nextToken?: string } {
    const { items, nextToken } = page("stages", this.stages.values(), input.maxResults, input.nextToken);
    const result: { stages: StageSummaryJson[]; nextToken?: string } = {
      stages: items.map((s) => this.stageSummaryJson(s)),
    };
    if (nextToken) result.nextToken = nextToken;
    return result;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Participants
  // -------------------------------------------------------------------------------------------------------------

  private issueToken(stage: StageRecord, config: TokenConfiguration): ParticipantTokenJson {
    const participantId = this.uniqueId();
    const duration = config.duration ?? DEFAULT_TOKEN_DURATION_MINUTES;
    const capabilities = orderedCapabilities(config.capabilities ?? ALL_CAPABILITIES);
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + duration * 60;
    const token = signEs384Jwt(
      { alg: "ES384", typ: "JWT", kid: this.signingKey.kid },
      {
        exp,
        iat,
        jti: participantId,
        resource: stage.arn,
        topic: stage.id,
        events_url: stage.endpoints.events,
        whip_url: stage.endpoints.whip,
        user_id: config.userId ?? "",
        attributes: config.attributes ?? {},
        capabilities: {
          allow_publish: capabilities.includes("PUBLISH"),
          allow_subscribe: capabilities.includes("SUBSCRIBE"),
        },
        version: "1.0",
      },
      this.signingKey.privateKey,
    );
    stage.issued.set(participantId, {
      participantId,
      userId: config.userId ?? "",
      attributes: { ...(config.attributes ?? {}) },
      capabilities,
    });
    const json: ParticipantTokenJson = {
      participantId,
      token,
      duration,
      capabilities,
      expirationTime: new Date(exp * 1000).toISOString(),
    };
    if (config.userId !== undefined) json.userId = config.userId;
    if (config.attributes !== undefined) json.attributes = { ...config.attributes };
    return json;
  }

  createParticipantToken(input: { stageArn: string } & TokenConfiguration): ParticipantTokenJson {
    checkAttributesSize(input.attributes, "attributes");
    return this.issueToken(this.liveStage(input.stageArn), input);
  }

  /**
   * Disconnects (and permanently revokes) a participant id, whether or not it has joined yet.
   *
   * Ids the stage issued, or that have joined it, are always known. Self-signed tokens, however, are minted by the
   * customer: the emulator learns their participant id (`jti`) only when they join. To let a backend revoke a
   * self-signed participant before it joins, we chose: while the account has at least one imported public key,
   * any well-formed unknown id (1..64 of `[a-zA-Z0-9_-]`) is accepted (200) and remembered as revoked for this
   * stage. Without an imported key no such token can exist, so an id the stage never issued answers
   * ResourceNotFoundException, as the contract says. Disconnecting an already disconnected id answers 200.
   */
  disconnectParticipant(input: { stageArn: string; participantId: string; reason?: string }): void {
    const stage = this.liveStage(input.stageArn);
    const id = input.participantId;
    const known = stage.issued.has(id) || stage.live.participant(id) !== undefined || stage.revoked.has(id);
    if (!known && !(this.publicKeys.size > 0 && PARTICIPANT_ID.test(id))) {
      throw notFound(`Participant not found: ${id}`);
    }
    stage.revoked.add(id);
    stage.live.leave(id);
  }

  /**
   * Checks a participant token as the stage server does: a JWT, ES384, signed by the emulator's key
   * (CreateParticipantToken) or by an imported public key (self-signed), unexpired, its `jti` a participant id and its
   * `resource` / `topic` naming one stage. Does not look the stage up.
   */
  private verifyToken(token: unknown): VerifiedToken | Extract<JoinResult, { ok: false }> {
    if (typeof token !== "string" || token.length === 0) {
      return { ok: false, status: 400, message: 'Body must be {"token": "<participant token>"}.' };
    }
    const decoded = decodeJwt(token);
    if (!decoded) return { ok: false, status: 401, message: "The token is not a JWT." };
    const { header, claims } = decoded;
    if (header.alg !== "ES384") return { ok: false, status: 401, message: "The token is not signed with ES384." };

    let keyPair: boolean;
    let key: KeyObject;
    if (header.kid === this.signingKey.kid) {
      keyPair = false;
      key = this.signingKey.publicKey;
    } else {
      const imported = typeof header.kid === "string" ? this.publicKeys.get(header.kid) : undefined;
      if (!imported) return { ok: false, status: 401, message: "The token's key (kid) is unknown or was deleted." };
      keyPair = true;
      key = imported.key;
    }
    if (!verifyEs384(decoded, key)) return { ok: false, status: 401, message: "The token's signature is invalid." };

    const { exp, jti, resource, topic } = claims;
    if (typeof exp !== "number" || !Number.isFinite(exp)) {
      return { ok: false, status: 401, message: "The token has no exp claim." };
    }
    if (exp * 1000 <= this.now()) return { ok: false, status: 401, message: "The token has expired." };
    if (typeof jti !== "string" || !PARTICIPANT_ID.test(jti)) {
      return { ok: false, status: 401, message: "The token's jti (participant id) is missing or malformed." };
    }
    const arnMatch = typeof resource === "string" ? STAGE_ARN.exec(resource) : null;
    if (!arnMatch || topic !== arnMatch[1]) {
      return { ok: false, status: 401, message: "The token's resource and topic do not name one stage." };
    }
    return {
      ok: true,
      keyPair,
      participantId: jti,
      stageArn: resource as string,
      claims,
      connected: {
        keyPair,
        immutable: Object.fromEntries(IMMUTABLE_CLAIMS.map((name) => [name, claims[name]])),
        expiresAt: exp * 1000,
      },
    };
  }

  /** What an IVS client does when it joins a stage with a token. */
  join(token: unknown): JoinResult {
    const verified = this.verifyToken(token);
    if (!verified.ok) return verified;
    const { participantId: jti, stageArn, claims } = verified;
    const stage = this.stages.get(stageArn);
    if (!stage) return { ok: false, status: 404, message: `Stage not found: ${stageArn}` };

    const issued = stage.issued.get(jti);
    if (!verified.keyPair && !issued) {
      return { ok: false, status: 401, message: "The token was not issued for this stage." };
    }
    if (stage.revoked.has(jti)) {
      return { ok: false, status: 403, message: `Participant ${jti} was disconnected.` };
    }

    const session = stage.live.join(
      issued && !verified.keyPair
        ? {
            participantId: jti,
            userId: issued.userId,
            attributes: issued.attributes,
            capabilities: issued.capabilities,
            token: verified.connected,
          }
        : { participantId: jti, ...claimsOfSelfSigned(claims), token: verified.connected },
    );
    let joinedStages = this.stagesJoinedBy.get(jti);
    if (!joinedStages) {
      joinedStages = new Set();
      this.stagesJoinedBy.set(jti, joinedStages);
    }
    joinedStages.add(stage);
    return { ok: true, participantId: jti, stageArn: stage.arn, sessionId: session.id };
  }

  /**
   * The broadcast SDK's `exchangeToken`: a connected participant swaps its token for a new one without leaving.
   * Refused as the SDK and the stage refuse it: a participant that joined with a CreateParticipantToken token or is
   * offered one (exchange works only with tokens signed with an imported key pair), a new token that cannot be
   * verified or has expired, one that changes an immutable claim (`topic`, `resource`, `jti`, `whip_url`,
   * `events_url`), and a participant that is not connected (left, or disconnected for good). Otherwise the new
   * capabilities, attributes, user id and expiry apply at once (sessions.ts: StageLive.exchange).
   */
  exchange(participantId: unknown, token: unknown, stageArn?: unknown): ExchangeResult {
    if (typeof token !== "string" || token.length === 0) {
      return {
        ok: false,
        status: 400,
        reason: "BAD_REQUEST",
        message: 'Body must be {"participantId": "...", "token": "...", "stageArn"?: "..."}.',
      };
    }
    const stage = this.stageOfParticipant(participantId, stageArn);
    if (!("live" in stage)) return { ...stage, reason: stage.status === 404 ? "NOT_JOINED" : "BAD_REQUEST" };
    const id = participantId as string;
    if (stage.revoked.has(id)) {
      return { ok: false, status: 403, reason: "DISCONNECTED", message: `Participant ${id} was disconnected.` };
    }
    const current = stage.live.participant(id)!;
    if (current.state !== "CONNECTED" || current.sessionId !== stage.live.activeSessionId) {
      return {
        ok: false,
        status: 409,
        reason: "NOT_CONNECTED",
        message: `Participant ${id} is not connected: join first.`,
      };
    }
    if (!current.token.keyPair) {
      return {
        ok: false,
        status: 409,
        reason: "NOT_KEY_PAIR_TOKEN",
        message: `Participant ${id} joined with a token from CreateParticipantToken: token exchange works only with tokens signed with a key pair.`,
      };
    }
    const verified = this.verifyToken(token);
    if (!verified.ok) {
      const reason = verified.message === "The token has expired." ? "EXPIRED" : "INVALID_TOKEN";
      return { ...verified, status: 401, reason };
    }
    if (!verified.keyPair) {
      return {
        ok: false,
        status: 409,
        reason: "NOT_KEY_PAIR_TOKEN",
        message:
          "The new token comes from CreateParticipantToken: token exchange works only with tokens signed with a key pair.",
      };
    }
    const changed = IMMUTABLE_CLAIMS.filter(
      (name) => verified.connected.immutable[name] !== current.token.immutable[name],
    );
    if (changed.length > 0) {
      return {
        ok: false,
        status: 409,
        reason: "IMMUTABLE_CLAIM_CHANGED",
        message: `The new token changes ${changed.join(", ")}, which an exchange must keep.`,
      };
    }
    stage.live.exchange(id, { ...claimsOfSelfSigned(verified.claims), token: verified.connected });
    const after = stage.live.participant(id)!;
    return {
      ok: true,
      participant: {
        participantId: id,
        stageArn: stage.arn,
        sessionId: after.sessionId,
        state: after.state,
        publishing: after.publishing,
        userId: after.userId,
        attributes: { ...after.attributes },
        capabilities: [...after.capabilities],
        expirationTime: new Date(after.token.expiresAt).toISOString(),
      },
    };
  }

  /** Everyone who has joined the stage (by stage id), or undefined for a stage id never created. */
  participants(stageId: string): ParticipantJson[] | undefined {
    const stage = this.stagesById.get(stageId);
    if (!stage) return undefined;
    return stage.live
      .everyone()
      .map((p) => ({
        participantId: p.participantId,
        userId: p.userId,
        state: p.state,
        capabilities: [...p.capabilities],
        publishing: p.publishing,
      }));
  }

  // -------------------------------------------------------------------------------------------------------------
  // The simulated client: leave, publish, unpublish
  // -------------------------------------------------------------------------------------------------------------

  /**
   * The live stage a joined participant id is on. `stageArn` is needed only when the id has joined more than one
   * stage (possible for self-signed tokens, whose jti the customer chooses).
   */
  private stageOfParticipant(
    participantId: unknown,
    stageArn: unknown,
  ): StageRecord | Exclude<ClientActionResult, { ok: true }> {
    if (typeof participantId !== "string" || participantId.length === 0) {
      return { ok: false, status: 400, message: 'Body must be {"participantId": "...", "stageArn"?: "..."}.' };
    }
    if (stageArn !== undefined && typeof stageArn !== "string") {
      return { ok: false, status: 400, message: "stageArn must be a string." };
    }
    const candidates = [...(this.stagesJoinedBy.get(participantId) ?? [])].filter(
      (s) => stageArn === undefined || s.arn === stageArn,
    );
    if (candidates.length === 0) {
      return {
        ok: false,
        status: 404,
        message: `Participant ${participantId} has not joined ${stageArn ?? "any stage"}.`,
      };
    }
    if (candidates.length > 1) {
      return {
        ok: false,
        status: 400,
        message: `Participant ${participantId} has joined several stages: give stageArn.`,
      };
    }
    return candidates[0]!;
  }

  private clientResult(stage: StageRecord, participantId: string): ClientActionResult {
    const p = stage.live.participant(participantId)!;
    return {
      ok: true,
      participant: {
        participantId,
        stageArn: stage.arn,
        sessionId: p.sessionId,
        state: p.state,
        publishing: p.publishing,
      },
    };
  }

  /** The client leaves the stage (idempotent). */
  leave(participantId: unknown, stageArn?: unknown): ClientActionResult {
    const stage = this.stageOfParticipant(participantId, stageArn);
    if (!("live" in stage)) return stage;
    stage.live.leave(participantId as string);
    return this.clientResult(stage, participantId as string);
  }

  /**
   * The client starts publishing. Refused, as IVS refuses it, for a token without PUBLISH (the SDK's
   * TOKEN_NOT_ALLOWED; event PUBLISH_ERROR / INSUFFICIENT_CAPABILITIES) and past the stage's publisher quota
   * (STAGE_AT_CAPACITY; PUBLISH_ERROR / QUOTA_EXCEEDED). Publishing again is a no-op.
   */
  publish(participantId: unknown, stageArn?: unknown): ClientActionResult {
    const stage = this.stageOfParticipant(participantId, stageArn);
    if (!("live" in stage)) return stage;
    const id = participantId as string;
    const outcome = stage.live.publish(id);
    if (outcome.ok) return this.clientResult(stage, id);
    switch (outcome.reason) {
      case "not-connected":
        return { ok: false, status: 409, message: `Participant ${id} is not connected: join first.` };
      case "insufficient-capabilities":
        return {
          ok: false,
          status: 403,
          message: `Participant ${id}'s token does not allow PUBLISH.`,
          stageError: { code: "TOKEN_NOT_ALLOWED", category: "PUBLISH_ERROR" },
        };
      case "stage-at-capacity":
        return {
          ok: false,
          status: 409,
          message: `The stage already has ${stage.live.publishers()} publishers, its limit.`,
          stageError: { code: "STAGE_AT_CAPACITY", category: "PUBLISH_ERROR" },
        };
    }
  }

  /** The client stops publishing (idempotent). */
  unpublish(participantId: unknown, stageArn?: unknown): ClientActionResult {
    const stage = this.stageOfParticipant(participantId, stageArn);
    if (!("live" in stage)) return stage;
    stage.live.unpublish(participantId as string);
    return this.clientResult(stage, participantId as string);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sessions and participants through the API
  // -------------------------------------------------------------------------------------------------------------

  private stageSession(stageArn: string, sessionId: string) {
    const stage = this.liveStage(stageArn);
    const session = stage.live.session(sessionId);
    if (!session) throw notFound(`Stage session not found: ${sessionId}`);
    return { stage, session };
  }

  getParticipant(input: { stageArn: string; sessionId: string; participantId: string }): ParticipantDetailJson {
    const { stage, session } = this.stageSession(input.stageArn, input.sessionId);
    const participant = session.participants.get(input.participantId);
    if (!participant) throw notFound(`Participant not found: ${input.participantId}`);
    return participantDetailJson(participant, stage.recording !== undefined);
  }

  /**
   * ListParticipants, ListParticipantEvents and ListStageSessions model no ResourceNotFoundException: for a stage,
   * session or participant that does not exist they answer an empty list.
   */
  listParticipants(input: {
    stageArn: string;
    sessionId: string;
    filterByUserId?: string;
    filterByPublished?: boolean;
    filterByState?: ParticipantState;
    filterByRecordingState?: Exclude<ParticipantRecordingState, "DISABLED">;
    maxResults?: number;
    nextToken?: string;
  }): { participants: ParticipantSummaryJson[]; nextToken?: string } {
    const filters = [input.filterByUserId, input.filterByPublished, input.filterByState, input.filterByRecordingState];
    if (filters.filter((f) => f !== undefined).length > 1) {
      throw validationError(
        "Only one of filterByUserId, filterByPublished, filterByState, or filterByRecordingState can be provided per request.",
      );
    }
    const stage = this.stages.get(input.stageArn);
    const session = stage?.live.session(input.sessionId);
    const recordingOn = stage?.recording !== undefined;
    const matching = [...(session?.participants.values() ?? [])].filter((p: SessionParticipant) => {
      if (input.filterByUserId !== undefined) return p.userId === input.filterByUserId;
      if (input.filterByPublished !== undefined) return p.published === input.filterByPublished;
      if (input.filterByState !== undefined) return p.state === input.filterByState;
      if (input.filterByRecordingState !== undefined) {
        return participantSummaryJson(p, recordingOn).recordingState === input.filterByRecordingState;
      }
      return true;
    });
    const scope = JSON.stringify([
      input.stageArn,
      input.sessionId,
      input.filterByUserId ?? null,
      input.filterByPublished ?? null,
      input.filterByState ?? null,
      input.filterByRecordingState ?? null,
    ]);
    const { items, nextToken } = page("participants", matching, input.maxResults, input.nextToken, { scope });
    const result: { participants: ParticipantSummaryJson[]; nextToken?: string } = {
      participants: items.map((p) => participantSummaryJson(p, recordingOn)),
    };
    if (nextToken) result.nextToken = nextToken;
    return result;
  }

  listParticipantEvents(input: {
    stageArn: string;
    sessionId: string;
    participantId: string;
    maxResults?: number;
    nextToken?: string;
  }): { events: ParticipantEventJson[]; nextToken?: string } {
    const participant = this.stages
      .get(input.stageArn)
      ?.live.session(input.sessionId)
      ?.participants.get(input.participantId);
    const scope = JSON.stringify([input.stageArn, input.sessionId, input.participantId]);
    const { items, nextToken } = page(
      "participant-events",
      participant?.events ?? [],
      input.maxResults,
      input.nextToken,
      { scope },
    );
    const result: { events: ParticipantEventJson[]; nextToken?: string } = { events: items.map(participantEventJson) };
    if (nextToken) result.nextToken = nextToken;
    return result;
  }

  getStageSession(input: { stageArn: string; sessionId: string }): StageSessionJson {
    return stageSessionJson(this.stageSession(input.stageArn, input.sessionId).session);
  }

  /** Newest first: AWS does not document the order; this is the emulator's choice. */
  listStageSessions(input: { stageArn: string; maxResults?: number; nextToken?: string }): {
    stageSessions: StageSessionJson[];
    nextToken?: string;
  } {
    const sessions = this.stages.get(input.stageArn)?.live.sessions() ?? [];
    const { items, nextToken } = page("stage-sessions", sessions, input.maxResults, input.nextToken, {
      scope: JSON.stringify([input.stageArn]),
      descending: true,
    });
    const result: { stageSessions: StageSessionJson[]; nextToken?: string } = {
      stageSessions: items.map(stageSessionJson),
    };
    if (nextToken) result.nextToken = nextToken;
    return result;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Tags
  // -------------------------------------------------------------------------------------------------------------

  private taggable(arn: string): { tags: Map<string, string> } {
    const resource = this.stages.get(arn) ?? this.publicKeys.get(arn);
    if (!resource) throw notFound(`Resource not found: ${arn}`);
    return resource;
  }

  tagResource(arn: string, tags: Tags): void {
    const resource = this.taggable(arn);
    const merged = new Map(resource.tags);
    for (const [k, v] of Object.entries(tags)) merged.set(k, v);
    if (merged.size > MAX_TAGS_PER_RESOURCE) {
      throw quotaExceeded(`A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags.`);
    }
    resource.tags.clear();
    for (const [k, v] of merged) resource.tags.set(k, v);
  }

  untagResource(arn: string, tagKeys: string[]): void {
    const resource = this.taggable(arn);
    for (const k of tagKeys) resource.tags.delete(k);
  }

  listTagsForResource(arn: string): Tags {
    return tagsJson(this.taggable(arn).tags);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Public keys
  // -------------------------------------------------------------------------------------------------------------

  private publicKeyJson(record: PublicKeyRecord): PublicKeyJson {
    return {
      arn: record.arn,
      name: record.name,
      publicKeyMaterial: record.material,
      fingerprint: record.fingerprint,
      tags: tagsJson(record.tags),
    };
  }

  importPublicKey(input: { publicKeyMaterial: string; name?: string; tags?: Tags }): PublicKeyJson {
    const pem = PEM_BLOCK.exec(input.publicKeyMaterial)?.[0];
    let key: KeyObject | undefined;
    try {
      key = pem ? createPublicKey({ key: `${pem}\n`, format: "pem" }) : undefined;
    } catch {
      key = undefined;
    }
    if (!key || !isP384PublicKey(key)) {
      throw validationError("publicKeyMaterial must be a PEM-encoded ECDSA public key on the P-384 curve.");
    }
    const derBytes = key.export({ format: "der", type: "spki" });
    const der = derBytes.toString("base64");
    for (const existing of this.publicKeys.values()) {
      if (existing.der === der) throw conflict(`This public key is already imported as ${existing.arn}.`);
    }
    const id = this.uniqueId();
    const record: PublicKeyRecord = {
      seq: ++this.seq,
      arn: this.arn("public-key", id),
      name: input.name ?? "",
      material: input.publicKeyMaterial,
      fingerprint: fingerprintOf(derBytes),
      der,
      key,
      tags: new Map(Object.entries(input.tags ?? {})),
    };
    this.publicKeys.set(record.arn, record);
    return this.publicKeyJson(record);
  }

  private publicKey(arn: string): PublicKeyRecord {
    const record = this.publicKeys.get(arn);
    if (!record) throw notFound(`Public key not found: ${arn}`);
    return record;
  }

  getPublicKey(arn: string): PublicKeyJson {
    return this.publicKeyJson(this.publicKey(arn));
  }

  listPublicKeys(input: { maxResults?: number; nextToken?: string }): {
    publicKeys: PublicKeySummaryJson[];
    nextToken?: string;
  } {
    const { items, nextToken } = page("public-keys", this.publicKeys.values(), input.maxResults, input.nextToken);
    const result: { publicKeys: PublicKeySummaryJson[]; nextToken?: string } = {
      publicKeys: items.map((r) => ({ arn: r.arn, name: r.name, tags: tagsJson(r.tags) })),
    };
    if (nextToken) result.nextToken = nextToken;
    return result;
  }

  deletePublicKey(arn: string): void {
    this.publicKey(arn);
    this.publicKeys.delete(arn);
  }
}

/** What a self-signed token's claims say of its participant. */
function claimsOfSelfSigned(claims: Record<string, unknown>): {
  userId: string;
  attributes: Record<string, string>;
  capabilities: Capability[];
} {
  return {
    userId: typeof claims.user_id === "string" ? claims.user_id : "",
    attributes: attributesFromClaim(claims.attributes),
    capabilities: capabilitiesFromClaim(claims.capabilities),
  };
}

function attributesFromClaim(claim: unknown): Record<string, string> {
  if (typeof claim !== "object" || claim === null || Array.isArray(claim)) return {};
  return Object.fromEntries(Object.entries(claim).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function capabilitiesFromClaim(claim: unknown): Capability[] {
  if (typeof claim !== "object" || claim === null) return [];
  const { allow_publish, allow_subscribe } = claim as { allow_publish?: unknown; allow_subscribe?: unknown };
  const list: Capability[] = [];
  if (allow_publish === true) list.push("PUBLISH");
  if (allow_subscribe === true) list.push("SUBSCRIBE");
  return list;
}
