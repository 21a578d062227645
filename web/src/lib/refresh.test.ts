import { InfiniteQueryObserver, QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { refresh } from "./refresh";

type Page = { rows: string[]; next: number | null };

/** An infinite list whose pages answer only when the test says so, like a slow server. */
function slowList() {
  const client = new QueryClient();
  const pending: Array<() => void> = [];
  let version = 1;
  const observer = new InfiniteQueryObserver<Page, Error, { pages: Page[] }, string[], number>(
    client,
    {
      queryKey: ["incidents", "list"],
      initialPageParam: 0,
      getNextPageParam: (page) => page.next,
      queryFn: ({ pageParam }) => {
        const seen = version;
        return new Promise<Page>((resolve) => {
          pending.push(() => {
            resolve({ rows: [`v${seen} page ${pageParam}`], next: pageParam === 0 ? 1 : null });
          });
        });
      },
    },
  );
  const unsubscribe = observer.subscribe(() => undefined);
  async function answerAll() {
    while (pending.length > 0) {
      pending.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return {
    client,
    observer,
    unsubscribe,
    answerAll,
    change: () => (version += 1),
  };
}

describe("refresh", () => {
  it("keeps the page being loaded when a change arrives meanwhile, and shows the change", async () => {
    const list = slowList();
    await list.answerAll();
    expect(list.observer.getCurrentResult().data?.pages).toHaveLength(1);

    const loading = list.observer.fetchNextPage(); // "Load more" clicked
    list.change();
    const refreshed = refresh(list.client, ["incidents"]); // the live change arrives
    await list.answerAll();
    await loading;
    await list.answerAll();
    await refreshed;

    const pages = list.observer.getCurrentResult().data?.pages ?? [];
    expect(pages.map((page) => page.rows[0])).toEqual(["v2 page 0", "v2 page 1"]);
    list.unsubscribe();
  });

  it("is what TanStack's default invalidation is not: that drops the page being loaded", async () => {
    const list = slowList();
    await list.answerAll();
    const loading = list.observer.fetchNextPage();
    list.change();
    const invalidated = list.client.invalidateQueries({ queryKey: ["incidents"] });
    await list.answerAll();
    await loading;
    await invalidated;
    expect(list.observer.getCurrentResult().data?.pages).toHaveLength(1);
    list.unsubscribe();
  });

  it("refetches at once when nothing is loading", async () => {
    const list = slowList();
    await list.answerAll();
    list.change();
    const refreshed = refresh(list.client, ["incidents"]);
    await list.answerAll();
    await refreshed;
    const pages = list.observer.getCurrentResult().data?.pages ?? [];
    expect(pages.map((page) => page.rows[0])).toEqual(["v2 page 0"]);
    list.unsubscribe();
  });
});
