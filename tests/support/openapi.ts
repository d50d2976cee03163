// openapi.yaml as the tests read it: the document, its local $refs resolved, and a checker of real responses against
// the schemas it declares.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { projectRoot } from "../../local/template.ts";
import type { ApiResponse } from "./stack.ts";

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
export const deref = (node: Json): Json =>
  node && typeof node === "object" && typeof node.$ref === "string" ? deref(resolve(node.$ref)) : node;

/** A small checker for the JSON Schema keywords openapi.yaml uses. */
export function check(schema: Json, value: Json, at: string, out: string[]): void {
  schema = deref(schema);
  if (schema === undefined) return void out.push(`${at}: no schema`);
  if (schema.allOf) for (const s of schema.allOf) check(s, value, at, out);
  if (schema.anyOf) {
    const passing = schema.anyOf.filter((s: Json) => {
      const e: string[] = [];
      check(s, value, at, e);
      return e.length === 0;
    });
    if (passing.length === 0) out.push(`${at}: matches none of anyOf`);
  }
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s: Json) => {
      const e: string[] = [];
      check(s, value, at, e);
      return e.length === 0;
    });
    if (passing.length !== 1) out.push(`${at}: matches ${passing.length} of oneOf`);
  }
  if ("const" in schema && value !== schema.const) out.push(`${at}: is not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual =
      value === null ? "null" : Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
    if (!types.includes(actual) && !(actual === "integer" && types.includes("number")))
      return void out.push(`${at}: ${actual} is not ${types.join("|")}`);
  }
  if (typeof value === "string") {
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value))
      out.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && [...value].length < schema.minLength) out.push(`${at}: too short`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) out.push(`${at}: too long`);
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) out.push(`${at}: not a date-time`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${at}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${at}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => check(schema.items, v, `${at}/${i}`, out));
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length)
      out.push(`${at}: items repeat`);
  } else if (value !== null && typeof value === "object") {
    for (const key of schema.required ?? []) if (!(key in value)) out.push(`${at}: missing ${key}`);
    for (const [key, v] of Object.entries(value)) {
      if (schema.properties?.[key]) check(schema.properties[key], v, `${at}/${key}`, out);
      else if (schema.additionalProperties === false && !(schema.allOf || schema.oneOf || schema.anyOf))
        out.push(`${at}: undeclared ${key}`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object")
        check(schema.additionalProperties, v, `${at}/${key}`, out);
      if (schema.propertyNames) check(schema.propertyNames, key, `${at}/(name ${key})`, out);
    }
  }
}

/** Checks a real response against the operation's declared response: status, content type, body, headers. */
export function conforms(method: string, path: string, r: ApiResponse): string[] {
  const declared = deref(doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(r.status)]);
  if (!declared) return [`${method} ${path}: status ${r.status} is not documented`];
  const out: string[] = [];
  for (const name of Object.keys(declared.headers ?? {})) {
    if (
      name === "Retry-After" ||
      name === "WWW-Authenticate" ||
      name === "Location" ||
      name === "Cache-Control" ||
      name === "x-request-id"
    ) {
      if (r.headers.get(name) === null) out.push(`${method} ${path} ${r.status}: header ${name} missing`);
    }
  }
  if (!declared.content) {
    if (r.text !== "") out.push(`${method} ${path} ${r.status}: a body where none is documented`);
    return out;
  }
  const type = (r.headers.get("content-type") ?? "").split(";")[0]!;
  const media = declared.content[type];
  if (!media) return [...out, `${method} ${path} ${r.status}: content type ${type} not documented`];
  check(media.schema, r.body, `${method} ${path} ${r.status}`, out);
  return out;
}
