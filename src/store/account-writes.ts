import { ColumnNode, TableNode, type KyselyPlugin, type OperationNode, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';

/** The tables an API key's authentication reads (see KeyAuthenticator's cache). */
const WATCHED = new Set(['accounts', 'api_keys']);
/** Written on every use of a key (once a minute): changes nothing authentication answers. */
const BOOKKEEPING = new Set(['last_used_at']);

function tableName(node: OperationNode | undefined): string | undefined {
  return node && TableNode.is(node) ? node.table.identifier.name : undefined;
}

function changesAuthentication(node: RootOperationNode): boolean {
  if (node.kind === 'UpdateQueryNode') {
    if (!WATCHED.has(tableName(node.table) ?? '')) return false;
    return (node.updates ?? []).some((u) => !(ColumnNode.is(u.column) && BOOKKEEPING.has(u.column.column.name)));
  }
  if (node.kind === 'DeleteQueryNode') return node.from.froms.some((f) => WATCHED.has(tableName(f) ?? ''));
  return false;
}

/**
 * Counts this process's statements that update or delete accounts or API keys, so that what was
 * read from them before (a cached authentication) can tell it may be stale. Counted when the
 * statement runs, and again by Store.write once its transaction has committed (a read between
 * the two still saw the old rows). Other processes' writes are not seen here: the cache's
 * lifetime bounds those.
 */
export class AccountWrites implements KyselyPlugin {
  version = 0;

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (changesAuthentication(args.node)) this.version += 1;
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
