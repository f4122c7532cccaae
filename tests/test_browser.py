"""The page in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium)
against a server started on a free loopback port: generate with a surname or a gender, open a name's
character probabilities, switch language, score names, take names from verse with their marked line,
and see an error as a message."""

from __future__ import annotations

import os

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    pytest.skip(
        f"headless Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}: apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
pytest.importorskip("selenium", reason="selenium is not installed (the dev extra)")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from xiaming.web.app import create_app  # noqa: E402
from xiaming.web.backend import Backend  # noqa: E402
from xiaming.web.server import running  # noqa: E402

WAIT = 30  # seconds to wait for the page: generous, the machine may be busy


@pytest.fixture(scope="module")
def url():
    with running(create_app(Backend.load(shipped=["jinyong", "gulong"]))) as base:
        yield base


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=390,844",
        "--lang=zh-CN",
    ):  # a phone-sized window
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, url):
    """The page freshly loaded, its model list filled in from the server."""
    browser.get(url)
    browser.execute_script("localStorage.clear()")
    browser.get(url)
    WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
    return browser


def _names(browser) -> list[str]:
    return [
        li.find_element(By.CLASS_NAME, "name-text").text for li in browser.find_elements(By.CSS_SELECTOR, "#results li")
    ]


def test_generate_with_a_surname_then_look_inside_a_name(page, tmp_path):
    page.find_element(By.ID, "surname").send_keys("欧阳")
    page.find_element(By.ID, "generate").click()
    WebDriverWait(page, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results li"))
    names = _names(page)
    assert len(names) == 12  # the page's default count
    assert all(name.startswith("欧阳") and len(name) > 2 for name in names), names
    assert page.find_element(By.ID, "error").is_displayed() is False
    assert "12" in page.find_element(By.ID, "status").text
    assert all(page.find_element(By.ID, b).is_enabled() for b in ("copy", "download-txt", "download-csv"))
    # a phone-sized window: nothing wider than the screen
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert all(
        p.text.startswith("Ōuyáng") or not p.text for p in page.find_elements(By.CSS_SELECTOR, "#results .pinyin")
    )

    first = page.find_element(By.CSS_SELECTOR, "#results li")
    page.execute_script("arguments[0].scrollIntoView()", first)
    first.click()
    WebDriverWait(page, WAIT).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#detail .char-row")))
    assert page.find_element(By.CSS_SELECTOR, "#detail h3").text == names[0]
    rows = page.find_elements(By.CSS_SELECTOR, "#detail .char-row")
    assert [r.find_element(By.CLASS_NAME, "glyph").text for r in rows[:-1]] == list(names[0])
    assert len(rows) == len(names[0]) + 1  # each character, then the end
    assert all(r.find_element(By.CLASS_NAME, "p").text for r in rows)
    assert "selected" in first.get_attribute("class")
    # whose style it is, under the probabilities
    WebDriverWait(page, WAIT).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#detail .who .style-row")) == 2)
    shares = [
        r.find_element(By.CLASS_NAME, "p").text for r in page.find_elements(By.CSS_SELECTOR, "#detail .who .style-row")
    ]
    assert sum(int(x.rstrip("%")) for x in shares) in (99, 100, 101)
    # and the view inside the model: each step's rank and alternatives, the LSTM's four gates
    WebDriverWait(page, WAIT).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#detail .inside .step")) == len(names[0]) + 1
    )
    assert len(page.find_elements(By.CSS_SELECTOR, "#detail .inside canvas.heat")) == 4
    page.save_screenshot(str(tmp_path / "web.png"))
    assert (tmp_path / "web.png").stat().st_size > 10_000


def test_a_refused_request_shows_its_message_not_a_blank_page(page):
    page.find_element(By.ID, "min_len").clear()
    page.find_element(By.ID, "min_len").send_keys("5")
    page.find_element(By.ID, "max_len").send_keys("3")
    page.find_element(By.ID, "generate").click()
    error = WebDriverWait(page, WAIT).until(EC.visibility_of_element_located((By.ID, "error")))
    assert "“最短（字）” 5: is above “最长（字）” 3" in error.text  # the server's fields, in the page's words
    assert page.find_element(By.ID, "min_len").get_attribute("aria-invalid") == "true"  # the field it names, marked
    assert page.find_element(By.ID, "max_len").get_attribute("aria-invalid") is None
    assert page.find_element(By.ID, "generate").is_enabled()
    assert not _names(page)

    page.find_element(By.ID, "min_len").clear()
    page.find_element(By.ID, "min_len").send_keys("2")
    page.find_element(By.ID, "max_len").clear()
    page.find_element(By.ID, "surname").send_keys("ж")
    page.find_element(By.ID, "generate").click()
    WebDriverWait(page, WAIT).until(EC.text_to_be_present_in_element((By.ID, "error"), "never seen"))
    assert page.find_element(By.ID, "surname").get_attribute("aria-invalid") == "true"
    assert page.find_element(By.ID, "min_len").get_attribute("aria-invalid") is None  # the old mark is cleared


def test_the_language_switch_changes_the_interface(page):
    button = page.find_element(By.ID, "generate")
    assert button.text == "起名"
    page.find_element(By.ID, "lang").click()
    assert button.text == "Generate"
    assert page.find_element(By.ID, "tab-score").text == "Score"
    page.refresh()  # the choice is remembered
    WebDriverWait(page, WAIT).until(lambda b: b.find_element(By.ID, "generate").text == "Generate")


def test_scoring_typed_names_shows_their_probabilities(page):
    page.find_element(By.ID, "tab-score").click()
    page.find_element(By.ID, "score-names").send_keys("令狐冲\n郭靖")
    page.find_element(By.ID, "score").click()
    WebDriverWait(page, WAIT).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#score-results li")) == 2)
    texts = [
        li.find_element(By.CLASS_NAME, "name-text").text
        for li in page.find_elements(By.CSS_SELECTOR, "#score-results li")
    ]
    assert texts == ["令狐冲", "郭靖"]
    WebDriverWait(page, WAIT).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#detail h3"), "令狐冲"))
    assert len(page.find_elements(By.CSS_SELECTOR, "#detail .char-row")) == 4


def test_mixing_two_styles_generates_names(page):
    from selenium.webdriver.support.ui import Select

    Select(page.find_element(By.ID, "style-with")).select_by_value("gulong")
    assert page.find_element(By.ID, "style-weight").is_displayed()
    page.find_element(By.ID, "surname").send_keys("西门")
    page.find_element(By.ID, "generate").click()
    WebDriverWait(page, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results li"))
    assert all(name.startswith("西门") for name in _names(page))
    assert "混合风格" in page.find_element(By.ID, "status").text


def test_female_on_the_generate_form_sends_the_gender(page, url):
    import json
    from urllib.request import Request, urlopen

    from selenium.webdriver.support.ui import Select

    Select(page.find_element(By.ID, "gender")).select_by_value("female")
    page.execute_script("document.getElementById('seed').value = '5'")  # under "more options"
    page.find_element(By.ID, "generate").click()
    WebDriverWait(page, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results li"))
    names = _names(page)
    assert len(names) == 12

    def ask(**extra):
        body = {
            "prefix": "",
            "include": "",
            "exclude": "",
            "n": 12,
            "min_len": 2,
            "temperature": 1,
            "rank": False,
            "seed": 5,
            **extra,
        }
        request = Request(url + "/api/generate", json.dumps(body).encode(), {"Content-Type": "application/json"})
        return [row["name"] for row in json.load(urlopen(request))["names"]]

    assert names == ask(gender="female") != ask()  # the page asked for women's names


def test_the_word_lean_on_the_form_reaches_the_sampler(page, url):
    import json
    from urllib.request import Request, urlopen

    from selenium.webdriver.support.ui import Select

    Select(page.find_element(By.ID, "model")).select_by_value("gulong")
    page.execute_script("document.getElementById('seed').value = '5'; document.getElementById('word_lean').value = '1'")
    page.find_element(By.ID, "generate").click()
    WebDriverWait(page, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results li"))
    names = _names(page)

    def ask(**extra):
        body = {"model": "gulong", "n": 12, "min_len": 2, "temperature": 1, "rank": False, "seed": 5, **extra}
        request = Request(url + "/api/generate", json.dumps(body).encode(), {"Content-Type": "application/json"})
        return [row["name"] for row in json.load(urlopen(request))["names"]]

    assert names == ask(word_lean=1) != ask()  # the page turned Gu Long's default lean (3) off


def test_names_from_verse_show_their_marked_line(page):
    from selenium.webdriver.support.ui import Select

    page.find_element(By.ID, "tab-verse").click()
    page.find_element(By.ID, "verse-surname").send_keys("李")
    Select(page.find_element(By.ID, "verse-book")).select_by_value("shijing")
    Select(page.find_element(By.ID, "verse-gender")).select_by_value("female")
    page.find_element(By.ID, "verse").click()
    WebDriverWait(page, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#verse-results li"))
    items = page.find_elements(By.CSS_SELECTOR, "#verse-results li")
    assert len(items) == 10
    for li in items:
        name = li.find_element(By.CLASS_NAME, "name-text").text
        marks = "".join(m.text for m in li.find_elements(By.CSS_SELECTOR, ".verse-line mark"))
        assert name.startswith("李") and marks == name[1:], (name, marks)
        assert "诗经" in li.find_element(By.CLASS_NAME, "source").text
    assert "李" in page.find_element(By.ID, "verse-status").text
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_the_guessing_game_plays_a_round(page):
    page.find_element(By.ID, "tab-quiz").click()
    WebDriverWait(page, WAIT).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#quiz-choices button")) == 2)
    assert [b.text for b in page.find_elements(By.CSS_SELECTOR, "#quiz-choices button")] == ["金庸", "古龙"]
    assert len(page.find_elements(By.CSS_SELECTOR, "#quiz-names .quiz-name")) == 3
    page.find_elements(By.CSS_SELECTOR, "#quiz-choices button")[0].click()
    WebDriverWait(page, WAIT).until(EC.text_to_be_present_in_element((By.ID, "quiz-score"), "/ 1"))
    assert len(page.find_elements(By.CSS_SELECTOR, "#quiz-choices button.right")) == 1
    assert page.find_element(By.ID, "quiz-feedback").text
    page.find_element(By.ID, "quiz-next").click()
    WebDriverWait(page, WAIT).until(
        lambda b: len([x for x in b.find_elements(By.CSS_SELECTOR, "#quiz-choices button") if x.is_enabled()]) == 2
    )  # a fresh round, not yet answered


def test_the_guessing_game_plays_the_three_authors_or_two(browser):
    """With Liang Yusheng's model loaded too, a round offers the three authors; the picker plays any two."""
    from selenium.webdriver.support.ui import Select

    with running(create_app(Backend.load(shipped=["jinyong", "gulong", "liangyusheng"]))) as base:
        browser.get(base)
        WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
        browser.find_element(By.ID, "tab-quiz").click()
        buttons = lambda b: [x.text for x in b.find_elements(By.CSS_SELECTOR, "#quiz-choices button")]  # noqa: E731
        WebDriverWait(browser, WAIT).until(lambda b: len(buttons(b)) == 3)
        assert buttons(browser) == ["金庸", "古龙", "梁羽生"]
        picker = Select(browser.find_element(By.ID, "quiz-styles"))
        assert [o.text for o in picker.options] == ["金庸、古龙、梁羽生", "金庸、古龙", "金庸、梁羽生", "古龙、梁羽生"]
        picker.select_by_value("gulong,liangyusheng")
        WebDriverWait(browser, WAIT).until(lambda b: buttons(b) == ["古龙", "梁羽生"])


def test_the_list_downloads_as_text_and_csv(page, downloads):
    page.find_element(By.ID, "surname").send_keys("张")
    page.find_element(By.ID, "generate").click()
    WebDriverWait(page, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results li"))
    names = _names(page)
    page.find_element(By.ID, "download-txt").click()
    page.find_element(By.ID, "download-csv").click()
    txt, csv = downloads / "names.txt", downloads / "names.csv"

    def written(path, lines: int) -> bool:  # the browser creates a download's file before it has written it
        return path.exists() and len(path.read_text(encoding="utf-8-sig").splitlines()) >= lines

    WebDriverWait(page, WAIT).until(lambda _: written(txt, len(names)) and written(csv, len(names) + 1))
    assert txt.read_text(encoding="utf-8").split() == names
    rows = csv.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "name,pinyin,log_prob,bits_per_char,percentile"
    assert [r.split(",")[0] for r in rows[1:]] == names


def test_the_api_docs_render_without_the_internet(browser, url):
    """/docs draws Swagger UI from the files the app serves (nothing from a CDN): the API's operations show."""
    browser.get(url + "/docs")
    WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
    paths = {e.text.replace("\u200b", "") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/api/generate", "/api/score", "/api/models"} <= paths
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(name.startswith(url) for name in loaded)
