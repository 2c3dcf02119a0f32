"""Keys go only where the operator allowed: registry rows written by SQL (no API check), a name
that resolves elsewhere at call time (DNS rebinding), and the pinned connection over TLS."""

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from azak_core.egress import EgressPolicy
from azak_pipelines.lib.predictions.budget import Budget
from azak_pipelines.lib.predictions.models import ModelSpec
from azak_pipelines.lib.predictions.providers import ProviderSettings
from azak_pipelines.lib.predictions.runner import Job, Runner
from azak_pipelines.lib.predictions.transport import EgressRefused, PinnedTransport
from tests.pipelines.predictions.conftest import add_model
from tests.pipelines.predictions.test_providers import news_context
from tests.pipelines.runs import run

DAY = ("2025-02-12", "2025-02-12")
JWT_SECRET = "jwt-signing-key-that-must-never-leave-" + "s" * 20
OPENAI_KEY = "sk-the-operators-real-openai-key"


def test_a_run_sends_no_secret_to_a_row_written_by_sql(predictions_warehouse, openai_server, monkeypatch):
    """The attack: a registry row naming AZAK_JWT_SECRET as its key, and the openai provider
    redirected to a host the attacker reads. The run records config failures and sends nothing."""
    monkeypatch.setenv("AZAK_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("AZAK_OPENAI_API_KEY", OPENAI_KEY)
    add_model(predictions_warehouse, "steal-jwt", "local/ok", openai_server.base_url, api_key_env="AZAK_JWT_SECRET")
    add_model(predictions_warehouse, "steal-openai", "local/ok", openai_server.base_url, provider="openai")
    run("news_predictions_job", DAY, raise_on_error=False)
    sent = [value for r in openai_server.requests for value in r.headers.values()]
    assert not [v for v in sent if JWT_SECRET in v or OPENAI_KEY in v]
    assert not openai_server.requests  # refused before any connection
    with psycopg.connect(predictions_warehouse) as conn:
        failures = conn.execute("SELECT model_name, status, error_class, error_message FROM computed.news_predictions "
                                "WHERE model_name LIKE 'steal-%' ORDER BY 1").fetchall()
    assert {(name, status, error) for name, status, error, _ in failures} == {
        ("steal-jwt", "failed", "config"), ("steal-openai", "failed", "config")}
    messages = {name: message for name, _, _, message in failures}
    assert "AZAK_LLM_KEY_VARIABLES" in messages["steal-jwt"] and JWT_SECRET not in messages["steal-jwt"]
    assert "AZAK_LLM_BASE_URL_HOSTS" in messages["steal-openai"]


def _spec(base_url: str, seed: int) -> ModelSpec:
    return ModelSpec(id=seed, name=f"named-{seed}", provider="openai-compatible", model="local/ok", base_url=base_url,
                     structured="json_schema", params={"max_tokens": 800, "seed": seed})


def test_a_name_rebound_to_a_forbidden_address_is_refused_at_call_time(predictions_warehouse, openai_server):
    port = openai_server.base_url.split(":")[-1].split("/")[0]
    url = f"http://llm.rebind.test:{port}/v1"
    assert EgressPolicy().url_problem(url, keyed=False) is None  # the name passes when the model is saved
    answers = {"llm.rebind.test": ["127.0.0.1"]}

    async def resolve(host: str, _port: int) -> list:
        return [ipaddress.ip_address(a) for a in answers[host]]

    settings = ProviderSettings(timeout_s=2.0, max_retries=0, resolve=resolve)
    with psycopg.connect(predictions_warehouse, autocommit=True) as conn:
        context = news_context(conn)

        def call(seed: int):
            (attempt,) = Runner(conn, {}, settings, Budget(None)).run([Job(_spec(url, seed), "news_impact", context)])
            return attempt

        first = call(1)  # the name exists only in this resolver: the connection went to its checked answer
        assert first.status == "ok", first.error_message
        assert openai_server.requests[-1].headers["Host"] == f"llm.rebind.test:{port}"
        for seed, rebound in ((2, ["169.254.169.254"]), (3, ["127.0.0.1", "10.0.0.7"]), (4, ["fd00:ec2::254"])):
            answers["llm.rebind.test"] = rebound
            refused = call(seed)
            assert (refused.status, refused.error_class) == ("failed", "config"), refused.error_message
            assert rebound[-1] in refused.error_message
    assert len(openai_server.requests) == 1


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate valid for ``name`` only (not for 127.0.0.1)."""
    now = dt.datetime.now(dt.UTC)

    def issue(subject: str, key, issuer: str, signer, ca: bool, san: str | None = None) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = issue("test CA", ca_key, "test CA", ca_key, True)
    cert = issue(name, key, "test CA", ca_key, False, san=name)
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[int, Path, list[str]]]:
    """An https server on 127.0.0.1 whose certificate names llm.pinned.test; records Host headers."""
    ca, cert, key = _certificate(tmp_path, "llm.pinned.test")
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], ca, hosts
    server.shutdown()
    server.server_close()


async def test_the_pinned_connection_verifies_tls_against_the_name(tls_server):
    port, ca, hosts = tls_server

    async def resolve(host: str, _port: int) -> list:  # dual-stack: nothing listens on ::1, the next is tried
        return [ipaddress.ip_address("::1"), ipaddress.ip_address("127.0.0.1")]

    policy = EgressPolicy(hosts=("llm.pinned.test",), private_networks=("127.0.0.0/8", "::1/128"))
    verify = ssl.create_default_context(cafile=str(ca))
    transport = PinnedTransport(policy, keyed=True, resolve=resolve, verify=verify)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"https://llm.pinned.test:{port}/v1/models")
        assert response.status_code == 200 and hosts == [f"llm.pinned.test:{port}"]
        with pytest.raises(EgressRefused, match="AZAK_LLM_BASE_URL_HOSTS"):  # a keyed call to an unlisted name
            await client.get(f"https://other.test:{port}/v1/models")
    assert len(hosts) == 1
