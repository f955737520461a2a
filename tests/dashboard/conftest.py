"""The dashboard's tests: the shared database (emptied per test) and one Chromium per module."""

import psycopg
import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import reset
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def conn(migrated):
    with psycopg.connect(migrated["pg15"], autocommit=True) as connection:
        reset(connection)
        yield connection


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
