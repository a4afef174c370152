"""Fixtures: the real local stack (relays, tracker, Bridge serving the PWA) and one Chromium, per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from devstack.services import Service, free_port, start_bridge, start_relay, start_tracker, stop_all
from tests.e2e.harness import CHROMIUM_FLAGS, AppUser, Stack, UserFactory, chromium_path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every service on loopback, on free ports, for the whole session.

    `hostile_relay` is a second nostr-relay that checks no signatures: it stands for a malicious or broken relay
    serving forged events, which the app must drop.
    """
    data_dir = tmp_path_factory.mktemp("stack")
    services: list[Service] = []
    try:
        services.append(start_relay(data_dir, free_port()))
        services.append(start_relay(data_dir, free_port(), name="hostile-relay", validators=("is_not_too_large",)))
        services.append(start_tracker(data_dir, free_port()))
        relay, tracker = services[0], services[2]
        allow: tuple[str, ...] = ("--fetch-allow-host", "127.0.0.1")  # pings may fetch from test servers on loopback
        allow += ("--heartbeat-interval", "2", "--heartbeats-per-key", "120")  # heartbeats seen within the tests
        services.append(
            start_bridge(data_dir, free_port(), relays=[relay.url], trackers=[tracker.url], extra_args=allow)
        )
        yield Stack(*services)
    finally:
        stop_all(services)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def new_user(browser: Browser, stack: Stack) -> Iterator[UserFactory]:
    """`new_user(**context_options)` opens the app in a fresh browser context: a separate person."""
    users: list[AppUser] = []

    def make(**options: Any) -> AppUser:
        user = AppUser.open(browser, stack.app_url, **options)
        users.append(user)
        return user

    yield make
    for user in users:
        user.close()
