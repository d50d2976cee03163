// An in-process stand-in for AWS Secrets Manager, speaking its JSON protocol to the real SDK client: the few
// operations stagepass uses (GetSecretValue, PutSecretValue, CreateSecret, DescribeSecret); and the random value
// CloudFormation generates for a secret's GenerateSecretString (generateSecretString, below).
import { createHash, randomInt, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";

interface Secret {
  arn: string;
  name: string;
  value: string | undefined;
  versionId: string;
  createdAt: number;
}

export interface LocalSecrets {
  endpoint: string;
  /** Creates (or finds) a secret; returns its ARN. */
  create(name: string, value?: string): string;
  get(nameOrArn: string): string | undefined;
  close(): Promise<void>;
}

export async function startSecretsManager(opts: { region: string; accountId: string }): Promise<LocalSecrets> {
  const secrets = new Map<string, Secret>();
  const find = (id: string) => secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);
  const create = (name: string, value?: string) => {
    const existing = find(name);
    if (existing) return existing.arn;
    // Secrets Manager appends 6 random characters; a hash of the name keeps local ARNs the same at every start.
    const arn = `arn:aws:secretsmanager:${opts.region}:${opts.accountId}:secret:${name}-${createHash("sha256").update(name).digest("base64url").slice(0, 6)}`;
    secrets.set(name, { arn, name, value, versionId: randomUUID(), createdAt: Date.now() });
    return arn;
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(body));
      };
      const fail = (type: string, message: string) => reply(400, { __type: type, message, Message: message });
      let input: Record<string, string | undefined>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        return fail("InvalidRequestException", "bad JSON");
      }
      const op = String(req.headers["x-amz-target"] ?? "").replace("secretsmanager.", "");
      if (op === "CreateSecret") {
        if (!input.Name) return fail("InvalidParameterException", "Name is required");
        if (find(input.Name)) return fail("ResourceExistsException", `secret ${input.Name} exists`);
        const arn = create(input.Name, input.SecretString);
        return reply(200, { ARN: arn, Name: input.Name, VersionId: find(arn)!.versionId });
      }
      const secret = find(String(input.SecretId ?? ""));
      if (!secret) return fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
      switch (op) {
        case "GetSecretValue":
          if (secret.value === undefined)
            return fail(
              "ResourceNotFoundException",
              "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
            );
          return reply(200, {
            ARN: secret.arn,
            Name: secret.name,
            SecretString: secret.value,
            VersionId: secret.versionId,
            VersionStages: ["AWSCURRENT"],
            CreatedDate: secret.createdAt / 1000,
          });
        case "PutSecretValue":
          if (typeof input.SecretString !== "string")
            return fail("InvalidParameterException", "SecretString is required");
          secret.value = input.SecretString;
          secret.versionId = randomUUID();
          return reply(200, {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: secret.versionId,
            VersionStages: ["AWSCURRENT"],
          });
        case "DescribeSecret":
          return reply(200, { ARN: secret.arn, Name: secret.name });
        default:
          return fail("InvalidRequestException", `${op} is not supported by the local Secrets Manager`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    create,
    get: (id) => find(id)?.value,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** AWS::SecretsManager::Secret GenerateSecretString, as far as the offline stack needs it. */
export interface GenerateSecretStringSpec {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeLowercase?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
  SecretStringTemplate?: string;
  GenerateStringKey?: string;
}

const PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/**
 * A random string as Secrets Manager's GetRandomPassword makes it (CloudFormation's GenerateSecretString): length 32
 * unless told, from the character classes not excluded, with one of each at least (RequireEachIncludedType, the
 * default); inside SecretStringTemplate's JSON under GenerateStringKey when both are given.
 */
export function generateSecretString(spec: GenerateSecretStringSpec): string {
  const length = spec.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096)
    throw new Error("GenerateSecretString.PasswordLength must be 1..4096");
  const excluded = new Set(spec.ExcludeCharacters ?? "");
  const classes = [
    spec.ExcludeLowercase ? "" : "abcdefghijklmnopqrstuvwxyz",
    spec.ExcludeUppercase ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    spec.ExcludeNumbers ? "" : "0123456789",
    spec.ExcludePunctuation ? "" : PUNCTUATION,
    spec.IncludeSpace ? " " : "",
  ]
    .map((c) => [...c].filter((ch) => !excluded.has(ch)).join(""))
    .filter(Boolean);
  const all = classes.join("");
  if (!all) throw new Error("GenerateSecretString excludes every character");
  const pick = (from: string) => from[randomInt(from.length)]!;
  const chars = Array.from({ length }, () => pick(all));
  if (spec.RequireEachIncludedType !== false && length >= classes.length) {
    // One of each class, at distinct random places.
    const places = new Set<number>();
    while (places.size < classes.length) places.add(randomInt(length));
    [...places].forEach((place, i) => {
      chars[place] = pick(classes[i]!);
    });
  }
  const value = chars.join("");
  if (spec.SecretStringTemplate !== undefined && spec.GenerateStringKey !== undefined) {
    return JSON.stringify({ ...(JSON.parse(spec.SecretStringTemplate) as object), [spec.GenerateStringKey]: value });
  }
  return value;
}
