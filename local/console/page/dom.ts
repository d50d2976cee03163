// A tiny element builder: the page is a few forms and tables, so plain DOM with this helper is all it needs.
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((event: never) => void);
export type Attrs = Record<string, AttrValue>;

/** `h("button", { type: "button", onclick: () => … }, "Join")`. `on…` keys add listeners; false/null skip an attribute. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false)
      parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The value of a named field of a form, trimmed ("" when absent). */
export function field(form: HTMLFormElement, name: string): string {
  const input = form.elements.namedItem(name);
  return input && "value" in input ? String(input.value).trim() : "";
}

export function checked(form: HTMLFormElement, name: string, value: string): boolean {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]`)].some(
    (i) => i.value === value && i.checked,
  );
}

export function time(iso: unknown): HTMLElement | string {
  if (typeof iso !== "string") return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return h(
    "time",
    { datetime: iso, title: iso },
    date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
  );
}

export function json(value: unknown): HTMLElement {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2) ?? "");
}
