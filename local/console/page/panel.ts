// A titled section of the page that loads its own content and can be asked to load it again.
import { fill, h, type Child } from "./dom.ts";

export interface Panel {
  section: HTMLElement;
  /** Loads the content again (the other panels call it after a change that concerns it). */
  refresh(): Promise<void>;
}

export function panel(
  id: string,
  title: string,
  load: (body: HTMLElement) => Promise<void>,
  extra: { intro?: Child; tools?: Child } = {},
): Panel {
  const body = h("div", { class: "panel-body", "aria-busy": "false" });
  // Loads run one after another; a refresh asked for while one is waiting to start joins that one.
  let tail: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;
  const run = async () => {
    waiting = undefined;
    body.setAttribute("aria-busy", "true");
    try {
      await load(body);
    } catch (error) {
      fill(body, h("p", { class: "reply error", role: "alert" }, `The console failed: ${(error as Error).message}`));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  };
  const refresh = () => {
    waiting ??= tail = tail.then(run);
    return waiting;
  };
  const section = h(
    "section",
    { class: "panel", id, "aria-labelledby": `${id}-title` },
    h(
      "header",
      { class: "panel-head" },
      h("h2", { id: `${id}-title` }, title),
      h(
        "span",
        { class: "tools" },
        extra.tools ?? null,
        h(
          "button",
          { type: "button", class: "quiet", "aria-label": `Refresh ${title}`, onclick: () => void refresh() },
          "Refresh",
        ),
      ),
    ),
    extra.intro ? h("p", { class: "intro" }, extra.intro) : null,
    body,
  );
  return { section, refresh };
}

/** A table, or a line saying it is empty. */
export function table(
  headings: string[],
  rows: Child[][],
  empty: string,
  rowAttrs: Array<Record<string, string>> = [],
): HTMLElement {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headings.map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((cells, i) =>
        h(
          "tr",
          rowAttrs[i] ?? {},
          cells.map((c) => h("td", {}, c)),
        ),
      ),
    ),
  );
}
