"""How big a report is and how fast it opens in a real headless Chromium (Qt WebEngine, as in
the report tests): load time, the feature list drawn, and the first dashboard opened (which
unpacks the gzipped dashboards), median over repeats.

    python benchmarks/report_render.py demo_out/report.html [--repeat 3]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.headless_browser import Browser  # noqa: E402

ROWS = "document.querySelectorAll('#feature-table tbody tr').length"


def measure(browser: Browser, report: Path) -> tuple[float, float, float]:
    """Seconds to load the page, to draw the feature list, and to open the first dashboard."""
    start = time.perf_counter()
    browser.open(report)
    load = time.perf_counter() - start
    browser.wait_for(f"{ROWS} > 0", "the feature list")
    listed = time.perf_counter() - start
    start = time.perf_counter()
    browser.click("th[data-key=max]")
    browser.click("#feature-table tbody tr")
    browser.wait_for(
        "document.querySelectorAll('#dashboard .context, #dashboard .overlay .main-svg')"
        ".length > 0",
        "a dashboard",
    )
    return load, listed, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    browser = Browser()
    try:
        loads, lists, boards = [], [], []
        for _ in range(args.repeat):
            load, listed, board = measure(browser, args.report)
            loads.append(load)
            lists.append(listed)
            boards.append(board)
        latents = browser.js(ROWS)
        errors = [m for level, m in browser.page.console if level != "InfoMessageLevel"]
    finally:
        browser.close()
    size = args.report.stat().st_size / 1e6
    print(f"{args.report}: {size:.1f} MB, {latents} latents")
    print(f"  page loaded        {statistics.median(loads):6.2f} s (median of {args.repeat})")
    print(f"  feature list drawn {statistics.median(lists):6.2f} s")
    print(f"  first dashboard    {statistics.median(boards):6.2f} s (two clicks included)")
    print(f"  console errors     {len(errors)}")


if __name__ == "__main__":
    main()
