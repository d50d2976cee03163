// DynamoDB's wire format (AttributeValue) for the values the token path reads and writes: strings, safe numbers,
// booleans, null, lists and plain objects, converted as @aws-sdk/util-dynamodb's marshall (with
// removeUndefinedValues, as the SDK's document client is configured in shared/aws/dynamo.ts) and unmarshall do.
// Anything else (sets, binary, NumberValue, numbers past Number.MAX_SAFE_INTEGER, NaN) goes to util-dynamodb itself,
// so the results and errors are the library's; the generic version costs about 14 µs per token request here
// (docs/performance.md). tests/unit/attribute-values.test.ts checks both directions against util-dynamodb.
import { convertToAttr, convertToNative, type NativeAttributeValue } from "@aws-sdk/util-dynamodb";

export type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

const MARSHALL_OPTIONS = { removeUndefinedValues: true };

const isPlainObject = (value: object) => {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/** One value as an AttributeValue. */
export function toAttributeValue(value: unknown): AttributeValue {
  switch (typeof value) {
    case "string":
      return { S: value };
    case "boolean":
      return { BOOL: value };
    case "number":
      // NaN and the infinities fail these comparisons and get util-dynamodb's error.
      if (value <= Number.MAX_SAFE_INTEGER && value >= Number.MIN_SAFE_INTEGER) return { N: String(value) };
      break;
    case "object":
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) {
        const L: AttributeValue[] = [];
        for (const item of value as unknown[])
          if (item !== undefined && typeof item !== "function") L.push(toAttributeValue(item));
        return { L };
      }
      if (isPlainObject(value)) return { M: toItem(value as Record<string, unknown>) };
      break;
  }
  return convertToAttr(value as NativeAttributeValue, MARSHALL_OPTIONS) as unknown as AttributeValue;
}

/** A plain object as an item (marshall's top-level map). */
export function toItem(object: Record<string, unknown>): Item {
  const M: Item = {};
  for (const key in object) {
    const value = object[key];
    if (value !== undefined && typeof value !== "function") M[key] = toAttributeValue(value);
  }
  return M;
}

/** One AttributeValue as a JavaScript value. */
export function fromAttributeValue(attribute: AttributeValue): unknown {
  if (attribute.S !== undefined) return attribute.S;
  if (attribute.N !== undefined) {
    const n = Number(attribute.N);
    if (n <= Number.MAX_SAFE_INTEGER && n >= Number.MIN_SAFE_INTEGER) return n;
  } else if (attribute.M !== undefined) {
    return fromItem(attribute.M as Item);
  } else if (attribute.L !== undefined) {
    return (attribute.L as AttributeValue[]).map(fromAttributeValue);
  } else if (attribute.BOOL !== undefined) {
    return Boolean(attribute.BOOL);
  } else if (attribute.NULL !== undefined) {
    return null;
  }
  return convertToNative(attribute as unknown as Parameters<typeof convertToNative>[0]);
}

/** An item as a plain object (unmarshall). */
export function fromItem(item: Item): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in item) out[key] = fromAttributeValue(item[key]!);
  return out;
}
