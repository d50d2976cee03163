/**
 * The EventBridge side of the emulator. Each change IVS reports (sessions.ts: StageUpdate) becomes the event IVS
 * sends, in EventBridge's envelope, and is posted to an event bus (the offline stack's, local/event-bus.ts):
 *
 *   { "version": "0", "id": "<uuid>", "detail-type": "IVS Stage Update", "source": "aws.ivs",
 *     "account": "<account>", "time": "2025-04-23T06:36:53Z", "region": "<region>", "resources": ["<stage ARN>"],
 *     "detail": { "session_id": "st-…", "event_name": "Participant Published", "event_time": "2025-04-23T06:36:53Z",
 *                 "user_id": "…", "participant_id": "…" } }
 *
 * Times have whole seconds, as EventBridge's do. IVS delivers these best-effort: late, duplicated, out of order or
 * not at all. Delivery controls (POST /_emulator/events) make the emulator do that on purpose, for the next events:
 * - `{"drop": n}`      the next n events are never sent (IVS still records them: ListParticipantEvents);
 * - `{"duplicate": n}` the next n events are each sent twice (the same event, same id);
 * - `{"reorder": n}`   the next n events are held back, then sent all at once in reverse order when the n-th one
 *                      comes (or at a flush).
 * Controls apply one after the other, in the order they were given. Sending is in order, one event at a time; a bus
 * that does not answer 2xx is retried a few times, then the event counts as undeliverable.
 */
import { randomUUID } from "node:crypto";
import type { StageUpdate } from "./sessions.ts";

export interface EventBridgeEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export type DeliveryMode = "drop" | "duplicate" | "reorder";

export interface DeliveryControl {
  mode: DeliveryMode;
  /** drop / duplicate: events still to treat; reorder: events still to collect before the release. */
  remaining: number;
}

export const MAX_CONTROL_COUNT = 1000;
/** The longest log of sent / dropped events kept for GET /_emulator/events. */
const LOG_LIMIT = 1000;
const RETRY_DELAYS_MS = [100, 300, 1000];
const POST_TIMEOUT_MS = 5_000;

/** EventBridge's time format: ISO 8601 to the second. */
export const eventBridgeTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function stageUpdateEvent(update: StageUpdate, region: string, accountId: string): EventBridgeEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "IVS Stage Update",
    source: "aws.ivs",
    account: accountId,
    time: eventBridgeTime(update.time),
    region,
    resources: [update.stageArn],
    detail: {
      session_id: update.sessionId,
      event_name: update.eventName,
      event_time: eventBridgeTime(update.time),
      user_id: update.userId,
      participant_id: update.participantId,
    },
  };
}

/** Parses a delivery-control body; a message describing the problem when it is not valid. */
export function parseDeliveryControl(body: unknown): DeliveryControl | string {
  const usage = `Body must be one of {"drop": n}, {"duplicate": n}, {"reorder": n} (n from 1 to ${MAX_CONTROL_COUNT}; true means 1).`;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return usage;
  const entries = Object.entries(body);
  if (entries.length !== 1) return usage;
  const [mode, value] = entries[0]!;
  if (mode !== "drop" && mode !== "duplicate" && mode !== "reorder") return usage;
  const count = value === true ? 1 : value;
  if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > MAX_CONTROL_COUNT) return usage;
  return { mode, remaining: count as number };
}

export interface EventLog {
  eventBusUrl: string | null;
  controls: DeliveryControl[];
  /**
   * Posted to the bus (or, with no bus, released for sending), in order, duplicates included; `undeliverable`
   * counts those the bus did not take.
   */
  sent: EventBridgeEvent[];
  dropped: EventBridgeEvent[];
  held: EventBridgeEvent[];
  undeliverable: number;
}

export class EventOutbox {
  private busUrl: string | undefined;
  private controls: Array<DeliveryControl & { held: EventBridgeEvent[] }> = [];
  private queue: EventBridgeEvent[] = [];
  private sent: EventBridgeEvent[] = [];
  private dropped: EventBridgeEvent[] = [];
  private undeliverable = 0;
  private pumping: Promise<void> | undefined;
  private closed = false;
  private readonly timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();

  constructor(private readonly options: { region: string; accountId: string; busUrl?: string | undefined }) {
    this.busUrl = options.busUrl;
  }

  setBusUrl(url: string | undefined): void {
    this.busUrl = url;
    this.pump();
  }

  /** A change IVS reports: wrapped, put through the delivery controls, and sent. */
  emit(update: StageUpdate): void {
    this.release(this.control(stageUpdateEvent(update, this.options.region, this.options.accountId)));
  }

  addControl(control: DeliveryControl): void {
    this.controls.push({ ...control, held: [] });
  }

  /** Releases held events now (in reverse order), and forgets the controls. */
  clearControls(): void {
    this.flush();
    this.controls = [];
  }

  /** Releases the events a reorder control holds, in reverse order, and ends that control. */
  flush(): void {
    for (const control of this.controls.filter((c) => c.mode === "reorder" && c.held.length > 0)) {
      this.controls.splice(this.controls.indexOf(control), 1);
      this.release(control.held.reverse());
    }
  }

  clearLog(): void {
    this.sent = [];
    this.dropped = [];
    this.undeliverable = 0;
  }

  log(): EventLog {
    return {
      eventBusUrl: this.busUrl ?? null,
      controls: this.controls.map(({ mode, remaining }) => ({ mode, remaining })),
      sent: [...this.sent],
      dropped: [...this.dropped],
      held: this.controls.flatMap((c) => c.held),
      undeliverable: this.undeliverable,
    };
  }

  /** Resolves once every released event has been posted (or given up on). */
  async settled(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  close(): void {
    this.closed = true;
    for (const pending of this.timers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.timers.clear();
  }

  /** The events to send now for this one, after the first control in line has had its say. */
  private control(event: EventBridgeEvent): EventBridgeEvent[] {
    const control = this.controls[0];
    if (!control) return [event];
    control.remaining--;
    const done = control.remaining <= 0;
    if (done) this.controls.shift();
    switch (control.mode) {
      case "drop":
        remember(this.dropped, event);
        return [];
      case "duplicate":
        return [event, event];
      case "reorder":
        control.held.push(event);
        return done ? control.held.reverse() : [];
    }
  }

  private release(events: EventBridgeEvent[]): void {
    if (events.length === 0) return;
    this.queue.push(...events);
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = (async () => {
      while (this.queue.length > 0 && !this.closed) {
        const event = this.queue.shift()!;
        remember(this.sent, event);
        if (this.busUrl !== undefined && !(await this.post(this.busUrl, event))) this.undeliverable++;
      }
    })().finally(() => {
      this.pumping = undefined;
      // An event released between the loop's last check and now is sent by a new pump.
      if (this.queue.length > 0) this.pump();
    });
  }

  private async post(url: string, event: EventBridgeEvent): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        await res.arrayBuffer();
        if (res.ok) return true;
      } catch {
        // the bus is down or slow: retry below
      }
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || this.closed) return false;
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.timers.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(pending);
    });
  }
}

function remember(log: EventBridgeEvent[], event: EventBridgeEvent): void {
  log.push(event);
  if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
}
