// docs/api.md, the project's contract, against what it describes: the same routes as template.yaml (the one route
// table) and openapi.yaml; the problem codes the code can produce; the audit actions; the default policy that
// tests/support/contract.ts mirrors; and every file it names, with the moderation rule's unit tests one step away.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadTemplate, projectRoot, routesOf } from "../../local/template.ts";
import * as errors from "../../shared/errors.ts";
import { AUDIT_ACTIONS } from "../../shared/store/audit.ts";
import { CONTRACT_DEFAULT_POLICY } from "../support/contract.ts";

const doc = readFileSync(`${projectRoot}docs/api.md`, "utf8");
const openapi = parse(readFileSync(`${projectRoot}openapi.yaml`, "utf8")) as {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: { ProblemCode: { enum: string[] } } };
};
const METHODS = ["get", "put", "post", "delete", "patch"];

/** The text of one `## ` section, up to the next one. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `docs/api.md has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Rows of the markdown tables in `text`, as arrays of cells. */
const tableRows = (text: string): string[][] =>
  text
    .split("\n")
    .filter((l) => /^\|.*\|$/.test(l) && !/^\|[-| ]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim()),
    );

const unquote = (cell: string) => cell.replace(/^`|`$/g, "");

describe("docs/api.md's routes", () => {
  const listed = tableRows(section("Routes"))
    .slice(1)
    .map(([method, path]) => `${unquote(method!)} ${unquote(path!)}`);
  const routed = routesOf(loadTemplate()).map((r) => r.routeKey);
  const documented = Object.entries(openapi.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
  );

  it("are template.yaml's routes, each once", () => {
    expect(listed.length).toBeGreaterThan(10);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...routed].sort());
  });

  it("are openapi.yaml's operations", () => {
    expect([...listed].sort()).toEqual([...documented].sort());
  });

  it("each have their own description under Routes", () => {
    const text = section("Routes")
      .split("\n")
      .filter((l) => !l.startsWith("|"))
      .join("\n");
    const undescribed = listed.filter(
      (route) => !new RegExp("`" + route.replace(/[{}/?]/g, "\\$&") + "[`?]").test(text),
    );
    expect(undescribed).toEqual([]);
  });
});

describe("docs/api.md's error table", () => {
  const rows = tableRows(section("Conventions"))
    .filter((r) => /^\d{3}$/.test(r[0]!))
    .map(([status, code]) => `${status} ${unquote(code!)}`);

  it("has every problem the code can produce, with its status, and nothing else", () => {
    const classes = (Object.values(errors) as unknown[]).filter(
      (v) => typeof v === "function" && v.prototype instanceof errors.ProblemError,
    ) as Array<new (...a: unknown[]) => errors.ProblemError>;
    const produced = classes.map((C) => new C([], 1)).map((e) => `${e.status} ${e.code}`);
    expect([...rows].sort()).toEqual([...produced, "500 internal"].sort());
  });

  it("has openapi.yaml's problem codes", () => {
    expect([...new Set(rows.map((r) => r.split(" ")[1]))].sort()).toEqual(
      [...openapi.components.schemas.ProblemCode.enum].sort(),
    );
  });
});

describe("docs/api.md's details", () => {
  it("shows the default policy that tests/support/contract.ts mirrors", () => {
    const rooms = section("Rooms, roles and rules");
    const block = /```json\n([\s\S]*?)```/.exec(rooms)?.[1];
    expect(JSON.parse(block ?? "null")).toEqual(CONTRACT_DEFAULT_POLICY);
  });

  it("names every audit action the code writes", () => {
    const text = section("Routes");
    const audit = text.slice(text.indexOf("`GET /rooms/{roomId}/audit"));
    const named = /`action` is one of\s+([^;]*);/
      .exec(audit)?.[1]
      ?.match(/`[a-z.]+`/g)
      ?.map(unquote);
    expect(named?.sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it("names only files of this repository", () => {
    const named = [
      ...doc.matchAll(/`((?:shared|functions|tests|local|scripts|bench|docs)\/[\w./-]+\.(?:ts|md|yaml|json))`/g),
    ].map((m) => m[1]!);
    const linked = [...doc.matchAll(/\]\(([^)#]+)\)/g)].map((m) =>
      new URL(m[1]!, `file://${projectRoot}docs/`).pathname.slice(projectRoot.length),
    );
    expect(named.length).toBeGreaterThan(0);
    expect([...named, ...linked].filter((path) => !existsSync(`${projectRoot}${path}`))).toEqual([]);
  });

  it("leads from the kick section to the kick rule, and from the rule's header to its unit tests", () => {
    const moderation = doc.slice(doc.indexOf("### Moderation"), doc.indexOf("### Members"));
    const rule = /`(shared\/moderation\/[\w-]+\.ts)` \(`checkKick`/.exec(moderation)?.[1];
    expect(rule).toBeDefined();
    const source = readFileSync(`${projectRoot}${rule}`, "utf8");
    expect(source).toMatch(/export function checkKick\(/);
    const header = source
      .split("\n")
      .filter((l) => l.startsWith("//"))
      .join("\n");
    const tests = /(tests\/unit\/[\w-]+\.test\.ts)/.exec(header)?.[1];
    expect(tests).toBeDefined();
    expect(readFileSync(`${projectRoot}${tests}`, "utf8")).toMatch(/describe\("checkKick"/);
  });
});
