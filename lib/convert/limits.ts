/**
 * How many items an Avro value may claim. An array or map block, and an object container
 * block, starts with a count that the writer chooses and nothing checks until the items are
 * read; a hostile count makes a decoder loop (or allocate) long after the bytes ran out. One
 * rule, shared by the compiled and the interpreted converters and the container reader:
 *
 * - An item whose type takes at least one byte (anything but the empty types below; a map
 *   entry always does, for its key's length) cannot outnumber the bytes left: a block count
 *   larger than that is a lie, `CONVERT_AVRO_BLOCK_COUNT_INVALID`.
 * - An item of an empty type (null, a record of only empty fields, a zero-size fixed) takes
 *   no byte, so bytes bound nothing: one value (one Kafka record value: a datum, or every
 *   block of a container file) may hold at most {@link MAX_EMPTY_ITEMS} of them, across all
 *   its arrays and blocks, `CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY`.
 *
 * So the work one value costs is bounded by its size plus MAX_EMPTY_ITEMS, whatever it claims.
 */
import { ConvertError } from '../errors/index.ts';
import type { Node } from './schema.ts';

/**
 * Items of empty types one value may hold. A 1 MiB message of one-byte items holds as many, so
 * honest data meets this bound no sooner than the byte bound.
 */
export const MAX_EMPTY_ITEMS = 1_000_000;

/** What is left of one value's {@link MAX_EMPTY_ITEMS}; one object per value, shared by its datums. */
export interface ItemBudget {
  left: number;
}

export const createItemBudget = (): ItemBudget => ({ left: MAX_EMPTY_ITEMS });

/**
 * True when a value of this node can take no bytes. Cycle-safe: a record met again while its
 * own fields are being checked can only hold itself through record fields, has no finite value,
 * and is not empty.
 */
export function isEmptyType(node: Node, visiting: Set<Node> = new Set()): boolean {
  switch (node.kind) {
    case 'null':
      return true;
    case 'fixed':
      return node.size === 0;
    case 'record': {
      if (visiting.has(node)) return false;
      visiting.add(node);
      const empty = node.fields.every((f) => isEmptyType(f.type, visiting));
      visiting.delete(node);
      return empty;
    }
    default:
      return false;
  }
}

/** A block claims more items than the bytes left can hold (each takes at least one byte). */
export const blockCountInvalid = (count: number, what: string, bytesLeft: number): ConvertError =>
  new ConvertError(
    'CONVERT_AVRO_BLOCK_COUNT_INVALID',
    `An Avro block claims ${count} ${what} but only ${bytesLeft} byte(s) are left; each takes at least one byte, so the count must be at most the bytes left`,
  );

/** A value claims more items of empty types than {@link MAX_EMPTY_ITEMS}. */
export const emptyItemsTooMany = (count: number, what: string, left: number): ConvertError =>
  new ConvertError(
    'CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY',
    `An Avro block claims ${count} ${what} of a type that takes no bytes (null, an empty record, a zero-size fixed); one value may hold at most ${MAX_EMPTY_ITEMS} such items in all (MAX_EMPTY_ITEMS) and ${left} are left`,
  );

/**
 * Checks one block count against the rule above, and takes empty items from the budget.
 *
 * @param count The (non-negative) count the block claims.
 * @param empty Whether the items are of an empty type ({@link isEmptyType}).
 * @param bytesLeft Bytes from the block's first item to the end of the data.
 * @throws ConvertError `CONVERT_AVRO_BLOCK_COUNT_INVALID` or `CONVERT_AVRO_EMPTY_ITEMS_TOO_MANY`.
 */
export function claimItems(
  count: number,
  empty: boolean,
  bytesLeft: number,
  budget: ItemBudget,
  what: string,
): void {
  if (!empty) {
    if (count > bytesLeft) throw blockCountInvalid(count, what, bytesLeft);
    return;
  }
  if (count > budget.left) throw emptyItemsTooMany(count, what, budget.left);
  budget.left -= count;
}
