"""A real PostgreSQL server for the tests (the session's `postgres` fixture), and fresh databases in it."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import asyncpg

from devstack.services import Service
from tests.async_runner import run

_numbers = itertools.count(1)


@dataclass
class PostgresServer:
    service: Service

    @property
    def url(self) -> str:
        """The server's own `postgres` database."""
        return self.service.url

    def url_of(self, name: str) -> str:
        return self.service.url.rsplit("/", 1)[0] + "/" + name

    def new_database(self) -> str:
        """The URL of a new, empty database (a name no other test of this run uses)."""
        name = f"bridge_{os.getpid()}_{next(_numbers)}"

        async def create() -> None:
            conn = await asyncpg.connect(self.url)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        run(create())
        return self.url_of(name)
