// An in-process stand-in for AWS Secrets Manager, speaking its JSON protocol to the real SDK client: the few
// operations stagepass uses (GetSecretValue, PutSecretValue, CreateSecret, DescribeSecret).
import { createHash, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";

interface Secret { arn: string; name: string; value: string | undefined; versionId: string; createdAt: number }

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
      try { input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"); } catch { return fail("InvalidRequestException", "bad JSON"); }
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
          if (secret.value === undefined) return fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
          return reply(200, { ARN: secret.arn, Name: secret.name, SecretString: secret.value, VersionId: secret.versionId, VersionStages: ["AWSCURRENT"], CreatedDate: secret.createdAt / 1000 });
        case "PutSecretValue":
          if (typeof input.SecretString !== "string") return fail("InvalidParameterException", "SecretString is required");
          secret.value = input.SecretString;
          secret.versionId = randomUUID();
          return reply(200, { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, VersionStages: ["AWSCURRENT"] });
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
