import { DAY_MS, type InboundDeps } from './inbound-deps.js';

const BATCH = 500;

/**
 * Drops inbound media older than MEDIA_RETENTION_DAYS, except media an event still being delivered
 * refers to: a pending webhook delivery naming it, or, for an event no webhook took, its entry in
 * the account's pull queue until the consumer acknowledges it (or the event log drops it). A receiver that was down
 * for a day still finds the file its event links to once it is back. Answers how many files went.
 */
export async function pruneInboundMedia(deps: InboundDeps, now: number): Promise<number> {
  const cutoff = now - deps.config.inboundMedia.retentionDays * DAY_MS;
  let removed = 0;
  for (;;) {
    const rows = await deps.store.write(async (tx) => {
      const due = await tx
        .selectFrom('inbound_media')
        .select(['id', 'account_id', 'storage'])
        .where('created_at', '<', cutoff)
        .where((eb) =>
          eb.not(eb.exists(eb.selectFrom('webhook_deliveries').select('webhook_deliveries.id').whereRef('webhook_deliveries.media_id', '=', 'inbound_media.id').where('webhook_deliveries.status', '=', 'pending'))),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('event_log')
                .innerJoin('event_log_heads', 'event_log_heads.account_id', 'event_log.account_id')
                .select('event_log.seq')
                .whereRef('event_log.media_id', '=', 'inbound_media.id')
                .whereRef('event_log.seq', '>', 'event_log_heads.acked_seq'),
            ),
          ),
        )
        .limit(BATCH)
        .execute();
      if (due.length > 0) await tx.deleteFrom('inbound_media').where('id', 'in', due.map((r) => r.id)).execute();
      return due;
    });
    // Files go after the rows: a crash in between leaves a file nobody names, never a row without its file.
    await deps.media.removeFiles(rows);
    removed += rows.length;
    if (rows.length < BATCH) return removed;
  }
}
