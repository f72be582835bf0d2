// Navigation for the browser tests. Chromium fails a navigation with net::ERR_NETWORK_CHANGED when
// a network interface comes or goes on the host (the veth of a pod the test itself starts or stops,
// or a previous test's network being torn down): a user would reload, and so does the test, a few
// times at most. Chromium may also retry by itself, which Playwright reports as the navigation
// interrupted by another one (to Chromium's error page, or to the same URL again), and a script or
// stylesheet of the page can fail the same way after the document loaded (the page then stays blank).
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
      const retry = String(err).includes(NETWORK_CHANGED) || /interrupted by another navigation to "/.test(String(err));
      if (attempt >= 4 || !retry) throw err;
    } finally {
      page.off("requestfailed", onFailed);
    }
  }
}
