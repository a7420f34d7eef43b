import type { GroupMetadata } from 'baileys';
import { STORED_TEXT_LIMITS, storableText } from '../../core/storable-text.js';
import type { Store } from '../../store/store.js';
import type { Group } from '../driver.js';

/** The linked number's groups, kept in the database so listing them never needs the socket. */
export class GroupsCache {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(accountId: string): Promise<Group[]> {
    const rows = await this.store.db.selectFrom('wa_groups').select(['group_id', 'name', 'participants']).where('account_id', '=', accountId).orderBy('name').orderBy('group_id').execute();
    return rows.map((r) => ({ id: r.group_id, name: r.name, participants: r.participants }));
  }

  /** Replaces the account's groups with what WhatsApp answered, in one transaction. */
  async replace(accountId: string, groups: GroupMetadata[]): Promise<void> {
    const now = this.clock();
    await this.store.write(async (tx) => {
      await tx.deleteFrom('wa_groups').where('account_id', '=', accountId).execute();
      for (const g of groups) {
        await tx
          .insertInto('wa_groups')
          .values({ account_id: accountId, group_id: g.id, name: storableText(g.subject ?? '', STORED_TEXT_LIMITS.name), participants: g.size ?? g.participants?.length ?? 0, updated_at: now })
          .execute();
      }
    });
  }

  async clear(accountId: string): Promise<void> {
    await this.store.write((tx) => tx.deleteFrom('wa_groups').where('account_id', '=', accountId).execute());
  }
}
