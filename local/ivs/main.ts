/**
 * Runs the IVS emulator on its own: `npx tsx local/ivs/main.ts`.
 * Environment: IVS_PORT (default 0 = free port), IVS_HOST, AWS_REGION, IVS_ACCOUNT_ID, IVS_ENFORCE_RATES=1,
 * IVS_EVENT_BUS_URL (where to POST the EventBridge events).
 */
import { startIvsEmulator } from "./index.ts";

const env = process.env;
const emulator = await startIvsEmulator({
  port: Number(env.IVS_PORT ?? 0),
  ...(env.IVS_HOST ? { host: env.IVS_HOST } : {}),
  ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
  ...(env.IVS_ACCOUNT_ID ? { accountId: env.IVS_ACCOUNT_ID } : {}),
  enforceRates: env.IVS_ENFORCE_RATES === "1" || env.IVS_ENFORCE_RATES === "true",
  ...(env.IVS_EVENT_BUS_URL ? { eventBusUrl: env.IVS_EVENT_BUS_URL } : {}),
});
console.log(
  `IVS Real-Time emulator listening at ${emulator.url} (region ${emulator.region}, account ${emulator.accountId})`,
);

const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
