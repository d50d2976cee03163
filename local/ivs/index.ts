/**
 * The project's IVS Real-Time emulator: the AWS restJson1 API of IVS Real-Time (stages, participant tokens,
 * disconnects, tags, public keys, stage sessions and their participants) in memory, so that the unmodified
 * `@aws-sdk/client-ivs-realtime` client works against it with only `endpoint` changed, plus emulator-only routes
 * under `/_emulator/` (join, participants, leave, publish, unpublish, events, faults, stats, public key, rates).
 * See docs in server.ts, state.ts, sessions.ts and events.ts.
 */
import type { AddressInfo } from "node:net";
import { EventOutbox } from "./events.ts";
import type { EventBridgeEvent } from "./events.ts";
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
  /**
   * Where to POST the EventBridge events IVS sends (one event per request, EventBridge's envelope): the offline
   * stack's event bus. Without it the events are only logged (GET /_emulator/events).
   */
  eventBusUrl?: string;
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
  /** Where the EventBridge events go from now on (undefined: nowhere). */
  setEventBusUrl(url: string | undefined): void;
  /** The EventBridge events sent so far (GET /_emulator/events has the rest of the log). */
  sentEvents(): EventBridgeEvent[];
  /** Resolves once every event released so far has been posted to the bus (or given up on). */
  eventsSettled(): Promise<void>;
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
  const events = new EventOutbox({ region, accountId, busUrl: opts.eventBusUrl });
  const state = new IvsState({
    region,
    accountId,
    maxStages,
    signingKey,
    onStageUpdate: (update) => events.emit(update),
  });
  const emulator = new EmulatorServer({ state, signingKey, enforceRates: opts.enforceRates ?? false, events });
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
    setEventBusUrl: (url: string | undefined) => events.setBusUrl(url),
    sentEvents: () => events.log().sent,
    eventsSettled: () => events.settled(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        emulator.cancelDelays();
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
