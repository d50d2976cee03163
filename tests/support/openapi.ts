// openapi.yaml as the tests read it: the document, and its local $refs resolved.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { projectRoot } from "../../local/template.ts";

export type Json = any;
export const doc: Json = parse(readFileSync(`${projectRoot}openapi.yaml`, "utf8"));

/** Resolves a local JSON pointer ref (`#/components/...`). */
export function resolve(ref: string): Json {
  if (!ref.startsWith("#/")) throw new Error(`only local refs are used: ${ref}`);
  let node: Json = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}
export const deref = (node: Json): Json => (node && typeof node === "object" && typeof node.$ref === "string" ? deref(resolve(node.$ref)) : node);
