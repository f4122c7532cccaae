"""Screenshots of the page for the README: docs/web.png (desktop) and docs/web-phone.png (phone).

    python scripts/screenshot.py [--out docs]

Starts the app on a free loopback port with the shipped models, drives Debian's headless Chromium
(/usr/bin/chromium, /usr/bin/chromedriver) with Selenium: types a surname, generates, opens the
first name's character probabilities, and saves the window. Needs the web and dev extras.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from xiaming.web.app import create_app  # noqa: E402
from xiaming.web.backend import Backend  # noqa: E402
from xiaming.web.server import running  # noqa: E402


def driver(width: int, height: int, lang: str) -> webdriver.Chrome:
    """Headless Chromium of the given window size and interface language."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--window-size={width},{height}",
        f"--lang={lang}",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shoot(url: str, path: Path, width: int, height: int, lang: str, surname: str, seed: int) -> None:
    """Generate names with a surname and open the first one's detail, then save a screenshot."""
    browser = driver(width, height, lang)
    try:
        browser.get(url)
        wait = WebDriverWait(browser, 30)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
        browser.find_element(By.ID, "surname").send_keys(surname)
        browser.find_element(By.CSS_SELECTOR, "details.more summary").click()
        browser.find_element(By.ID, "seed").send_keys(str(seed))
        browser.find_element(By.ID, "generate").click()
        first = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#results li")))
        first.click()
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#detail .char-row")))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#detail .who .style-row"))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#detail .inside canvas"))
        browser.execute_script("window.scrollTo(0, 0)")
        height_needed = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, max(height, height_needed))
        browser.save_screenshot(str(path))
    finally:
        browser.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder for the PNG files (default docs)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with running(create_app(Backend.load(shipped=["jinyong", "gulong"]))) as url:
        shoot(url, out / "web.png", 1280, 800, "zh-CN", "令狐", 7)
        shoot(url, out / "web-phone.png", 390, 844, "en-US", "欧阳", 3)
    print(f"wrote {out / 'web.png'} and {out / 'web-phone.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
