"""Every HTTP client of a process verifies TLS with one context, built as httpx builds its default."""

import ssl

import httpx

from azak_pipelines.lib.http import HttpClient, tls_context


def test_clients_share_one_verifying_context_like_httpxs_default():
    shared = tls_context()
    assert tls_context() is shared
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
    default = httpx.create_ssl_context()
    assert shared.get_ca_certs() == default.get_ca_certs() and shared.options == default.options
    first, second = HttpClient(base_url="https://example.invalid"), HttpClient(base_url="https://example.invalid")
    pools = [client._client._transport._pool for client in (first, second)]  # httpx's own pool (tests only)
    assert all(pool._ssl_context is shared for pool in pools)
