/** Most pages one iteration fetches: far beyond any real listing, it stops a server bug looping forever. */
export const MAX_PAGES_PER_ITERATION = 100_000;

/**
 * Every item of a cursor-paged listing, fetching the next page only when the consumer gets to it (break
 * out of the loop to stop early). `fetchPage(undefined)` is the first page.
 */
export async function* eachItem<Page extends { readonly nextCursor: string | null }, Item>(
  fetchPage: (cursor: string | undefined) => Promise<Page>,
  itemsOf: (page: Page) => readonly Item[],
): AsyncGenerator<Item, void, undefined> {
  let cursor: string | undefined;
  for (let pages = 1; pages <= MAX_PAGES_PER_ITERATION; pages += 1) {
    const page = await fetchPage(cursor);
    yield* itemsOf(page);
    if (page.nextCursor === null) return;
    if (page.nextCursor === cursor) throw new Error(`the server sent cursor ${cursor} twice: paging would not end`);
    cursor = page.nextCursor;
  }
  throw new Error(`more than ${MAX_PAGES_PER_ITERATION} pages: narrow the listing with its filters`);
}
