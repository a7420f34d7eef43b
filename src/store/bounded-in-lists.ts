import {
  OperationNodeTransformer,
  OperatorNode,
  PrimitiveValueListNode,
  ValueListNode,
  type BinaryOperationNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

/** The next power of two at or above `n` (1 for 0 and 1). */
function bucket(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

function padded<T>(values: readonly T[]): readonly T[] {
  const size = bucket(values.length);
  if (values.length === 0 || values.length === size) return values;
  return [...values, ...Array<T>(size - values.length).fill(values[values.length - 1]!)];
}

class PadInLists extends OperationNodeTransformer {
  protected override transformBinaryOperation(node: BinaryOperationNode): BinaryOperationNode {
    const transformed = super.transformBinaryOperation(node);
    const { operator, rightOperand } = transformed;
    if (!OperatorNode.is(operator) || (operator.operator !== 'in' && operator.operator !== 'not in')) return transformed;
    if (PrimitiveValueListNode.is(rightOperand)) {
      return { ...transformed, rightOperand: PrimitiveValueListNode.create(padded(rightOperand.values)) };
    }
    if (ValueListNode.is(rightOperand)) {
      return { ...transformed, rightOperand: ValueListNode.create(padded(rightOperand.values)) };
    }
    return transformed;
  }
}

/**
 * `in (…)` and `not in (…)` lists padded to a power of two by repeating their last value (which
 * changes no answer), so a query shape yields about eleven SQL texts for lists of 1–1,000 values
 * instead of one text per length. The SQLite connection keeps every statement it prepared for
 * the life of the process (see sqlite-connection.ts), so the number of distinct texts is memory.
 */
export class BoundedInListsPlugin implements KyselyPlugin {
  readonly #transformer = new PadInLists();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
