// Navigation for the browser tests. Chromium fails a navigation with net::ERR_NETWORK_CHANGED when
// a network interface comes or goes on the host (the veth of a pod the test itself starts or stops):
// a user would reload, and so does the test, a few times at most. Playwright can also report such a
// failure as the navigation interrupted by Chromium's error page (seen with pods starting meanwhile).
import type { Page } from "playwright-core";

export async function goto(page: Page, url: string, opts?: Parameters<Page["goto"]>[1]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url, opts);
    } catch (err) {
      const changed = /net::ERR_NETWORK_CHANGED|interrupted by another navigation to "chrome-error:/.test(String(err));
      if (attempt >= 4 || !changed) throw err;
    }
  }
}
