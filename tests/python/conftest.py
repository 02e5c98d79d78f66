"""pytest configuration for canal-rs Python tests: sandbox addresses come from the environment
variables that `make test` exports (CANAL_TEST_MARIADB, CANAL_TEST_MYSQL9, CANAL_TEST_ZK). A test
whose server is not configured is skipped, or fails when CI is set."""
import os

import pytest


def _in_ci():
    return os.environ.get("CI", "") not in ("", "0", "false")


def need_env(name):
    value = os.environ.get(name)
    if not value:
        if _in_ci():
            pytest.fail(f"{name} is not set (required when CI is set)")
        pytest.skip(f"{name} is not set")
    host, _, port = value.rpartition(":")
    return host, int(port)


@pytest.fixture
def mariadb_addr():
    return need_env("CANAL_TEST_MARIADB")


@pytest.fixture
def mysql9_addr():
    return need_env("CANAL_TEST_MYSQL9")


@pytest.fixture
def zk_hosts():
    host, port = need_env("CANAL_TEST_ZK")
    return f"{host}:{port}"
