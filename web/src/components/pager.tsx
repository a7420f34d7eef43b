import { useState } from 'preact/hooks';

/** Cursor paging as every list endpoint does it: the cursors walked so far, newest page first. */
export function useCursorPages() {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    cursor: cursors[cursors.length - 1] as string | undefined,
    number: cursors.length + 1,
    isFirst: cursors.length === 0,
    back: () => setCursors((c) => c.slice(0, -1)),
    forward: (next: string) => setCursors((c) => [...c, next]),
    reset: () => setCursors([]),
  };
}

export type CursorPages = ReturnType<typeof useCursorPages>;

/** Previous / next buttons for a cursor-paged list; hidden when there is only one page, unless `always`. */
export function Pager(props: { pages: CursorPages; nextCursor: string | null | undefined; previous: string; next: string; showNumber?: boolean; always?: boolean }) {
  const { pages, nextCursor } = props;
  if (!props.always && pages.isFirst && !nextCursor) return null;
  return (
    <div class="pager">
      <button class="btn" disabled={pages.isFirst} onClick={pages.back}>
        {props.previous}
      </button>
      {props.showNumber && <span class="hint">Page {pages.number}</span>}
      <button class="btn" disabled={!nextCursor} onClick={() => nextCursor && pages.forward(nextCursor)}>
        {props.next}
      </button>
    </div>
  );
}
