"""Debian's Chromium driven by Selenium through Debian's chromedriver (no browser downloads)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def browser():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        if os.environ.get("TAIZHANG_REQUIRE_BROWSER"):
            pytest.fail("Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=zh-CN"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    """screenshot(name): save the page as tests/artifacts/<test>-<name>.png."""
    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name.replace('[', '-').rstrip(']')}-{name}.png"
        browser.save_screenshot(str(path))
        return path

    return take
