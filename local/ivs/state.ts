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
import type { Capability } from "./model.ts";
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

export type ParticipantState = "CONNECTED" | "DISCONNECTED";

export interface ParticipantJson {
  participantId: string;
  userId: string;
  state: ParticipantState;
  capabilities: Capability[];
}

export type JoinResult =
  | { ok: true; participantId: string; stageArn: string; sessionId: string }
  | { ok: false; status: 400 | 401 | 403 | 404; message: string };

// ---------------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------------

interface IssuedParticipant {
  participantId: string;
  userId: string;
  capabilities: Capability[];
}

interface JoinedParticipant {
  participantId: string;
  userId: string;
  capabilities: Capability[];
  state: ParticipantState;
}

interface StageRecord {
  seq: number;
  id: string;
  arn: string;
  name: string;
  tags: Map<string, string>;
  endpoints: StageEndpoints;
  recording?: RecordingConfiguration;
  activeSessionId?: string;
  deleted: boolean;
  /** Participant ids this stage issued tokens for (CreateParticipantToken / CreateStage). */
  issued: Map<string, IssuedParticipant>;
  /** Participant ids disconnected (revoked for good), joined or not. */
  revoked: Set<string>;
  /** Every participant that has joined, in join order. */
  joined: Map<string, JoinedParticipant>;
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
  return createHash("md5")
    .update(der)
    .digest("hex")
    .match(/../g)!
    .join(":");
}

type ListKind = "stages" | "public-keys";

function encodePageToken(kind: ListKind, afterSeq: number): string {
  return Buffer.from(JSON.stringify({ v: 1, k: kind, a: afterSeq }), "utf8").toString("base64url");
}

/** The sequence number a page token continues after; ValidationException for a token we did not hand out. */
function decodePageToken(kind: ListKind, token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null) {
      const { v, k, a } = value as { v?: unknown; k?: unknown; a?: unknown };
      if (v === 1 && k === kind && typeof a === "number" && Number.isSafeInteger(a) && a >= 0) return a;
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
): { items: T[]; nextToken?: string } {
  const after = decodePageToken(kind, nextToken);
  const limit = maxResults ?? DEFAULT_LIST_MAX_RESULTS;
  const rest = [...all].filter((r) => r.seq > after).sort((a, b) => a.seq - b.seq);
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  return rest.length > limit && last ? { items, nextToken: encodePageToken(kind, last.seq) } : { items };
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
}

export class IvsState {
  private readonly region: string;
  private readonly accountId: string;
  private readonly maxStages: number;
  private readonly signingKey: SigningKey;
  private readonly now: () => number;
  private seq = 0;
  /** Live stages by ARN. */
  private readonly stages = new Map<string, StageRecord>();
  /** Every stage ever created by id, deleted ones included (for the participants route). */
  private readonly stagesById = new Map<string, StageRecord>();
  private readonly publicKeys = new Map<string, PublicKeyRecord>();
  private readonly usedIds = new Set<string>();

  constructor(options: IvsStateOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.maxStages = options.maxStages;
    this.signingKey = options.signingKey;
    // Read the clock through Date.now() at each use, so that tests that mock Date (vi.setSystemTime) see it.
    this.now = options.now ?? (() => Date.now());
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
    const json: StageJson = { arn: stage.arn, name: stage.name, tags: tagsJson(stage.tags), endpoints: { ...stage.endpoints } };
    if (stage.activeSessionId) json.activeSessionId = stage.activeSessionId;
    if (stage.recording) json.autoParticipantRecordingConfiguration = structuredClone(stage.recording);
    return json;
  }

  private stageSummaryJson(stage: StageRecord): StageSummaryJson {
    const json: StageSummaryJson = { arn: stage.arn, name: stage.name, tags: tagsJson(stage.tags) };
    if (stage.activeSessionId) json.activeSessionId = stage.activeSessionId;
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
    const stage: StageRecord = {
      seq: ++this.seq,
      id,
      arn: this.arn("stage", id),
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
      joined: new Map(),
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

  updateStage(input: { arn: string; name?: string; autoParticipantRecordingConfiguration?: RecordingConfiguration }): StageJson {
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
    for (const participant of stage.joined.values()) {
      stage.revoked.add(participant.participantId);
      participant.state = "DISCONNECTED";
    }
    delete stage.activeSessionId;
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
    stage.issued.set(participantId, { participantId, userId: config.userId ?? "", capabilities });
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
    const known = stage.issued.has(id) || stage.joined.has(id) || stage.revoked.has(id);
    if (!known && !(this.publicKeys.size > 0 && PARTICIPANT_ID.test(id))) {
      throw notFound(`Participant not found: ${id}`);
    }
    stage.revoked.add(id);
    const joined = stage.joined.get(id);
    if (joined) joined.state = "DISCONNECTED";
    this.refreshSession(stage);
  }

  private refreshSession(stage: StageRecord): void {
    const anyoneConnected = [...stage.joined.values()].some((p) => p.state === "CONNECTED");
    if (anyoneConnected && !stage.activeSessionId) stage.activeSessionId = randomSessionId();
    if (!anyoneConnected) delete stage.activeSessionId;
  }

  /** What an IVS client does when it joins a stage with a token. */
  join(token: unknown): JoinResult {
    if (typeof token !== "string" || token.length === 0) {
      return { ok: false, status: 400, message: "Body must be {\"token\": \"<participant token>\"}." };
    }
    const decoded = decodeJwt(token);
    if (!decoded) return { ok: false, status: 401, message: "The token is not a JWT." };
    const { header, claims } = decoded;
    if (header.alg !== "ES384") return { ok: false, status: 401, message: "The token is not signed with ES384." };

    let selfSigned: boolean;
    let key: KeyObject;
    if (header.kid === this.signingKey.kid) {
      selfSigned = false;
      key = this.signingKey.publicKey;
    } else {
      const imported = typeof header.kid === "string" ? this.publicKeys.get(header.kid) : undefined;
      if (!imported) return { ok: false, status: 401, message: "The token's key (kid) is unknown or was deleted." };
      selfSigned = true;
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
    const stageArn = resource as string;
    const stage = this.stages.get(stageArn);
    if (!stage) return { ok: false, status: 404, message: `Stage not found: ${stageArn}` };

    const issued = stage.issued.get(jti);
    if (!selfSigned && !issued) {
      return { ok: false, status: 401, message: "The token was not issued for this stage." };
    }
    if (stage.revoked.has(jti)) {
      return { ok: false, status: 403, message: `Participant ${jti} was disconnected.` };
    }

    let participant = stage.joined.get(jti);
    if (!participant) {
      participant = issued
        ? { participantId: jti, userId: issued.userId, capabilities: [...issued.capabilities], state: "CONNECTED" }
        : {
            participantId: jti,
            userId: typeof claims.user_id === "string" ? claims.user_id : "",
            capabilities: capabilitiesFromClaim(claims.capabilities),
            state: "CONNECTED",
          };
      stage.joined.set(jti, participant);
    }
    participant.state = "CONNECTED";
    this.refreshSession(stage);
    return { ok: true, participantId: jti, stageArn: stage.arn, sessionId: stage.activeSessionId ?? "" };
  }

  /** Everyone who has joined the stage (by stage id), or undefined for a stage id never created. */
  participants(stageId: string): ParticipantJson[] | undefined {
    const stage = this.stagesById.get(stageId);
    if (!stage) return undefined;
    return [...stage.joined.values()].map((p) => ({
      participantId: p.participantId,
      userId: p.userId,
      state: p.state,
      capabilities: [...p.capabilities],
    }));
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

function capabilitiesFromClaim(claim: unknown): Capability[] {
  if (typeof claim !== "object" || claim === null) return [];
  const { allow_publish, allow_subscribe } = claim as { allow_publish?: unknown; allow_subscribe?: unknown };
  const list: Capability[] = [];
  if (allow_publish === true) list.push("PUBLISH");
  if (allow_subscribe === true) list.push("SUBSCRIBE");
  return list;
}
