// Navigation for the browser tests. Chromium fails a navigation with net::ERR_NETWORK_CHANGED when
// a network interface comes or goes on the host (the veth of a pod the test itself starts or stops,
// or a previous test's network being torn down): a user would reload, and so does the test, a few
// times at most. Chromium may also retry by itself, which Playwright reports as the navigation
// interrupted by another one (to Chromium's error page, or to the same URL again), and a script or
// stylesheet of the page can fail the same way after the document loaded (the page then stays blank).
// A retry of Chromium's own to the same URL is waited for: a goto of ours would interrupt it in
// turn (all four attempts failed so within 0.7 s in a full run, right after multihost.test.ts).
import type { Page, Request } from "playwright-core";

const NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED";

export async function goto(page: Page, url: string, opts?: Parameters<Page["goto"]>[1]) {
  for (let attempt = 1; ; attempt++) {
    let changed = false;
    const onFailed = (r: Request) => {
      if (r.failure()?.errorText.includes(NETWORK_CHANGED)) changed = true;
    };
    page.on("requestfailed", onFailed);
    try {
      const res = await page.goto(url, opts);
      if (!changed || attempt >= 4) return res;
    } catch (err) {
      const text = String(err);
      const retry = text.includes(NETWORK_CHANGED) || /interrupted by another navigation to "/.test(text);
      if (attempt >= 4 || !retry) throw err;
      // Chromium's own retry: let it end before the next goto.
      if (text.includes(`interrupted by another navigation to "${url}"`)) await page.waitForLoadState("load");
    } finally {
      page.off("requestfailed", onFailed);
    }
  }
}
