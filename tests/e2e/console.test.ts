// The web console in a real browser (the system's Chromium, driven by Playwright) against the offline stack: what a
// newcomer does with it, start to finish, through the page alone.
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium } from "../support/chromium.ts";
import { useStack } from "../support/stack.ts";

const executablePath = findChromium();
if (!executablePath) {
  console.warn(
    "tests/e2e/console.test.ts skipped: no Chromium here (install Debian's `chromium` package, or set CHROMIUM_PATH); .ci/run installs it.",
  );
}

describe.skipIf(!executablePath)("the web console, in Chromium", () => {
  const stack = useStack();
  let browser: Browser;
  const suffix = Date.now().toString(36);
  const host = `console-host-${suffix}`;
  const guest = `console-guest-${suffix}`;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: executablePath! });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  const openPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    page.setDefaultTimeout(30_000);
    return page;
  };
  const signIn = async (page: Page, username: string, displayName: string) => {
    await page.getByLabel("Username").fill(username);
    await page.getByLabel(/^Display name/).fill(displayName);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("signed-in-as").getByText(username, { exact: true }).waitFor();
  };
  const participantRow = (page: Page, participantId: string, state?: string): Locator =>
    page.locator(`#participants tr[data-participant-id="${participantId}"]${state ? `[data-state="${state}"]` : ""}`);
  /** Gets a token in the room page, and returns the simulated client's card. */
  const newClient = async (page: Page): Promise<{ card: Locator; participantId: string }> => {
    const before = await page.locator("article.client").count();
    await page.getByRole("button", { name: "Get a token" }).click();
    await page.locator("article.client").nth(before).waitFor();
    const card = page.locator("article.client").first();
    return { card, participantId: (await card.getAttribute("data-participant-id"))! };
  };
  const clientDoes = async (card: Locator, action: string) => {
    await card.getByRole("button", { name: action, exact: true }).click();
    const reply = card.locator(".reply");
    await reply.waitFor();
    return { status: await reply.getAttribute("data-status"), text: await reply.innerText() };
  };

  it("signs in, creates a room, simulates a client on stage, kicks it with a ban and shows the audit trail", async () => {
    const page = await openPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(stack().url);

    // Sign in as the host and create a room: the room page opens.
    await signIn(page, host, "Hope Host");
    await page.getByLabel("Title").fill(`Console ${suffix}`);
    await page.getByRole("button", { name: "Create room" }).click();
    await page.getByRole("heading", { level: 1, name: new RegExp(`Console ${suffix}`) }).waitFor();
    const roomId = page.url().split("#/rooms/")[1]!;
    expect(roomId).toMatch(/^[a-zA-Z0-9]{12}$/);

    // The host makes the guest a speaker (by username: the console looks the user id up).
    await page.locator("#members").getByLabel(/^User/).fill(guest);
    await page.locator("#members").getByLabel("Role", { exact: true }).fill("speaker");
    await page.getByRole("button", { name: "Set role" }).click();
    await page.locator("#members td", { hasText: guest }).waitFor();

    // The guest signs in (the host stays signed in, one switch away) and gets a token in the same room.
    await page.getByRole("button", { name: "Sign in as another user" }).click();
    await signIn(page, guest, "Gus Guest");
    await page.getByText("you: speaker").waitFor();

    // A first client joins and leaves.
    const first = await newClient(page);
    expect(await first.card.innerText()).toContain(`${guest} as speaker`);
    expect((await clientDoes(first.card, "Join")).status).toBe("200");
    await participantRow(page, first.participantId, "connected").waitFor();
    expect((await clientDoes(first.card, "Leave")).status).toBe("200");
    await participantRow(page, first.participantId, "disconnected").waitFor();

    // A second one joins and publishes: the participant appears with role, display name, connected and publishing.
    const second = await newClient(page);
    expect((await clientDoes(second.card, "Join")).status).toBe("200");
    const row = participantRow(page, second.participantId, "connected");
    await row.waitFor();
    expect(await row.locator("td").allInnerTexts()).toEqual(
      expect.arrayContaining([guest, "Gus Guest", "speaker", "connected"]),
    );
    expect((await clientDoes(second.card, "Publish")).status).toBe("200");
    await page
      .locator(`#participants tr[data-participant-id="${second.participantId}"][data-publishing="true"]`)
      .waitFor();

    // Back as the host: ban the guest from the participant's row.
    await page.getByLabel("Switch user").selectOption(host);
    await page.getByText("you: host").waitFor();
    await participantRow(page, second.participantId, "connected")
      .getByRole("button", { name: /^Ban the user/ })
      .click();
    const moderation = page.locator("#moderation");
    expect(await moderation.getByLabel(/^Participant or user/).inputValue()).toBe(guest);
    await moderation.getByLabel(/^Reason/).fill("spam in chat");
    await moderation.getByLabel(/^Ban minutes/).fill("30");
    await moderation.getByRole("button", { name: "Kick", exact: true }).click();
    const kicked = moderation.locator(".reply");
    await kicked.waitFor();
    expect(await kicked.getAttribute("data-status")).toBe("200");

    // The participant is disconnected, the ban is listed, and the audit trail has the kick and the ban.
    await participantRow(page, second.participantId, "disconnected").waitFor();
    await moderation.locator("td", { hasText: "spam in chat" }).waitFor();
    await page.locator('#audit tr[data-action="user.banned"]').waitFor();
    await page.locator('#audit tr[data-action="participant.kicked"]').first().waitFor();

    // Banned, the guest cannot even open the room: the page shows the API's problem document, as a frontend gets it.
    await page.getByLabel("Switch user").selectOption(guest);
    const refusal = page.locator("main .reply.error");
    await refusal.waitFor();
    expect(await refusal.getAttribute("data-status")).toBe("403");
    expect(await refusal.innerText()).toContain("banned");
    expect(await refusal.innerText()).toContain("Banned until");

    // The rooms page counts the metrics the functions published (GET /dev/metrics): the tokens and the kick too.
    await page.goto(`${stack().url}/#/`);
    await page.locator('#metrics tr[data-metric="TokensIssued"]').waitFor();
    const kicks = await page.locator('#metrics tr[data-metric="Kicks"] td').allInnerTexts();
    expect(kicks.slice(0, 2)).toEqual(["Kicks", "—"]);
    expect(Number(kicks[2])).toBeGreaterThanOrEqual(1); // a stack shared with other suites counts their kicks too

    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
