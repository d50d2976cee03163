/**
 * The project's IVS Real-Time emulator: the AWS restJson1 API of IVS Real-Time (stages, participant tokens,
 * disconnects, tags, public keys) in memory, so that the unmodified `@aws-sdk/client-ivs-realtime` client works
 * against it with only `endpoint` changed, plus emulator-only routes under `/_emulator/` (join, participants,
 * faults, stats, public key, rates). See docs in server.ts and state.ts.
 */
import type { AddressInfo } from "node:net";
import { EmulatorServer } from "./server.ts";
import { IvsState } from "./state.ts";
import { generateSigningKey } from "./tokens.ts";

export interface IvsEmulatorOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default us-east-1. */
  region?: string;
  /** Default 123456789012. */
  accountId?: string;
  /** Enforce IVS's published API rates (default false). */
  enforceRates?: boolean;
  /** Stages per account and region before ServiceQuotaExceededException (default 100). */
  maxStages?: number;
}

export interface IvsEmulator {
  url: string;
  port: number;
  region: string;
  accountId: string;
  /** The emulator's own ES384 signing key (participant tokens), SPKI PEM. */
  publicKeyPem: string;
  /** Calls per AWS operation name since start or the last reset. */
  requestCounts(): Record<string, number>;
  resetCounts(): void;
  setEnforceRates(on: boolean): void;
  close(): Promise<void>;
}

const REGION = /^[a-z0-9-]+$/;
const ACCOUNT_ID = /^[0-9]+$/;

export async function startIvsEmulator(opts: IvsEmulatorOptions = {}): Promise<IvsEmulator> {
  const host = opts.host ?? "127.0.0.1";
  const region = opts.region ?? "us-east-1";
  const accountId = opts.accountId ?? "123456789012";
  const maxStages = opts.maxStages ?? 100;
  if (!REGION.test(region)) throw new Error(`Invalid region: ${region}`);
  if (!ACCOUNT_ID.test(accountId)) throw new Error(`Invalid accountId: ${accountId}`);
  if (!Number.isSafeInteger(maxStages) || maxStages < 0) throw new Error(`Invalid maxStages: ${maxStages}`);

  const signingKey = generateSigningKey();
  const state = new IvsState({ region, accountId, maxStages, signingKey });
  const emulator = new EmulatorServer({ state, signingKey, enforceRates: opts.enforceRates ?? false });
  const { server } = emulator;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    region,
    accountId,
    publicKeyPem: signingKey.publicKeyPem,
    requestCounts: () => emulator.requestCounts(),
    resetCounts: () => emulator.resetCounts(),
    setEnforceRates: (on: boolean) => emulator.rates.setEnforce(on),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        emulator.cancelDelays();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
