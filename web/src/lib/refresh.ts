import type { QueryClient, QueryKey } from "@tanstack/react-query";

/**
 * Refreshes the cached views under `queryKey` after a live change, without cancelling a
 * load that is running. TanStack's default (`cancelRefetch: true`) aborts it: a change
 * arriving while "Load more" fetched the next page of incidents dropped that page, and
 * the list refetched only the page it already showed. A running load may predate the
 * change, so the views are refreshed once more when it is done.
 */
export async function refresh(queryClient: QueryClient, queryKey: QueryKey): Promise<void> {
  const busy = queryClient.isFetching({ queryKey }) > 0;
  await queryClient.invalidateQueries({ queryKey }, { cancelRefetch: false });
  if (busy) await queryClient.invalidateQueries({ queryKey }, { cancelRefetch: false });
}
