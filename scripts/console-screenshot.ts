// docs/console.png: the web console's room page, taken in the system's Chromium against a fresh offline stack of
// its own (a free port). Run it again whenever the page changes:
//
//   npx tsx scripts/console-screenshot.ts [out.png]
import { chromium, type Page } from "playwright-core";
import { fileURLToPath } from "node:url";
import { startStack } from "../local/stack.ts";
import { findChromium } from "../tests/support/chromium.ts";

const out = process.argv[2] ?? fileURLToPath(new URL("../docs/console.png", import.meta.url));
const executablePath = findChromium();
if (!executablePath) {
  console.error("No Chromium found: install Debian's `chromium` package or set CHROMIUM_PATH.");
  process.exit(1);
}

const stack = await startStack({ port: 0, logLevel: "ERROR" });
// Clients publish where the emulator has the simulated client's publish route (an emulator without it says so).
const probe = await fetch(`${stack.ivs.url}/_emulator/publish`, { method: "POST", body: "{}" });
const canPublish = !(await probe.text()).includes("No emulator route");
const browser = await chromium.launch({ executablePath });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  page.setDefaultTimeout(30_000);
  await page.goto(stack.url);

  const signIn = async (username: string, displayName: string) => {
    if (await page.getByRole("button", { name: "Sign in as another user" }).isVisible()) {
      await page.getByRole("button", { name: "Sign in as another user" }).click();
    }
    await page.getByLabel("Username").fill(username);
    await page.getByLabel(/^Display name/).fill(displayName);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("signed-in-as").getByText(username, { exact: true }).waitFor();
  };
  /** Gets a token in the room page and has the simulated client join (and publish, where the emulator can). */
  const goOnStage = async (publish: boolean) => {
    const before = await page.locator("article.client").count();
    await page.getByRole("button", { name: "Get a token" }).click();
    await page.locator("article.client").nth(before).waitFor();
    const card = page.locator("article.client").first();
    await card.getByRole("button", { name: "Join", exact: true }).click();
    await card.locator(".reply").waitFor();
    if (publish && canPublish) {
      await card.getByRole("button", { name: "Publish", exact: true }).click();
      await card.locator(".reply").waitFor();
    }
  };
  const setMember = async (username: string, role: string) => {
    await page.locator("#members").getByLabel(/^User/).fill(username);
    await page.locator("#members").getByLabel("Role", { exact: true }).fill(role);
    await page.getByRole("button", { name: "Set role" }).click();
    await page.locator("#members td", { hasText: username }).waitFor();
  };

  await signIn("alice", "Alice");
  await page.getByLabel("Title").fill("Daily standup");
  await page.getByLabel(/^Stage name/).fill("standup");
  await page.getByRole("button", { name: "Create room" }).click();
  await page.getByRole("heading", { level: 1, name: /Daily standup/ }).waitFor();
  await setMember("bob", "speaker");
  await setMember("mallory", "speaker");
  await page.locator("#tags").getByLabel("Key").fill("team");
  await page.locator("#tags").getByLabel("Value").fill("platform");
  await page.getByRole("button", { name: "Set tag" }).click();
  await page.locator("#tags td", { hasText: "platform" }).waitFor();

  await signIn("bob", "Bob");
  await goOnStage(true);
  await signIn("mallory", "Mallory");
  await goOnStage(false);
  await signIn("carol", "Carol");
  await goOnStage(false);

  // Back as Alice: on stage too, then Mallory is banned from her row.
  await page.getByLabel("Switch user").selectOption("alice");
  await page.getByText("you: host").waitFor();
  await goOnStage(true);
  await page
    .locator("#participants tr", { hasText: "mallory" })
    .getByRole("button", { name: /^Ban the user/ })
    .click();
  await page
    .locator("#moderation")
    .getByLabel(/^Reason/)
    .fill("spam in chat");
  await page.locator("#moderation").getByRole("button", { name: "Kick", exact: true }).click();
  await page.locator("#moderation .reply").waitFor();
  await page.locator('#participants tr[data-state="disconnected"]', { hasText: "mallory" }).waitFor();
  await page.locator('#audit tr[data-action="user.banned"]').waitFor();
  await settle(page);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await stack.close();
}

/** Every panel has finished loading. */
async function settle(page: Page) {
  // (strings: this script is type-checked for Node, without the DOM's types)
  await page.waitForFunction(`document.querySelectorAll('[aria-busy="true"]').length === 0`);
  await page.evaluate("window.scrollTo(0, 0)");
}
