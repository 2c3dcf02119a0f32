"""Where a model's key may go: the operator's lists and the one set of rules that the API applies
when a model is saved and the pipelines apply again when a call is made, on the addresses the
host resolves to then (so a name that changes its answer — DNS rebinding — is caught).

- A model names the variable holding its key; only the variables of ``AZAK_LLM_KEY_VARIABLES``
  may be named (default: the OpenAI and OpenRouter keys), so no other secret of the pipelines'
  environment (``AZAK_JWT_SECRET``, the database URL…) can be chosen.
- A model that sends a key calls only the hosts of ``AZAK_LLM_BASE_URL_HOSTS`` (default OpenAI's
  and OpenRouter's), over https, at public addresses or in the operator's private networks.
  Plain http is allowed only to a loopback address (the key never leaves the machine).
- A keyless model may also call loopback and the networks of ``AZAK_LLM_PRIVATE_NETWORKS``
  (default: none beyond loopback); a name not on the host list must resolve into them.
- Link-local (169.254.0.0/16, fe80::/10) and cloud metadata addresses and names are refused
  always, as are unspecified, multicast and reserved addresses.
"""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from azak_core import settings_registry
from azak_core.patterns import ENV_NAME_PATTERN

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

KEY_VARIABLES_VAR = "AZAK_LLM_KEY_VARIABLES"
HOSTS_VAR = "AZAK_LLM_BASE_URL_HOSTS"
PRIVATE_NETWORKS_VAR = "AZAK_LLM_PRIVATE_NETWORKS"

DEFAULT_KEY_ENV = {"openai": "AZAK_OPENAI_API_KEY", "openrouter": "AZAK_OPENROUTER_API_KEY"}
DEFAULT_KEY_VARIABLES = tuple(DEFAULT_KEY_ENV.values())
DEFAULT_HOSTS = ("api.openai.com", "openrouter.ai")
ENV_NAME = re.compile(ENV_NAME_PATTERN)
CALLING_PROVIDERS = frozenset({"openai", "openrouter", "openai-compatible"})

METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal", "metadata.tencentyun.com"})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class EgressSettingError(ValueError):
    """An operator's list is malformed; the message names the variable."""


def key_variable(provider: str, api_key_env: str | None) -> str | None:
    """The variable a model's key is read from: the one it names, else its provider's default."""
    return api_key_env or DEFAULT_KEY_ENV.get(provider)


def ip_of(host: str) -> IpAddress | None:
    """``host`` as an address (IPv4-mapped IPv6 unwrapped), or None for a name."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def always_refused(address: IpAddress) -> str | None:
    """Why no model may ever call ``address`` (metadata, link-local, …), or None."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if any(address in network for network in LINK_LOCAL):
        return "a link-local address"
    reserved = address.is_reserved and not address.is_loopback  # ::1 lies in the reserved ::/8
    if address.is_unspecified or address.is_multicast or reserved:
        return "an unspecified, multicast or reserved address"
    return None


def _items(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _networks(raw: str) -> tuple[str, ...]:
    networks = []
    for part in _items(raw):
        try:
            network = ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise EgressSettingError(f"{PRIVATE_NETWORKS_VAR}: {part!r} is not an IP network (CIDR)") from None
        if any(network.overlaps(n) for n in LINK_LOCAL) or any(a in network for a in METADATA_ADDRESSES):
            raise EgressSettingError(f"{PRIVATE_NETWORKS_VAR}: {part} contains link-local or metadata "
                                     "addresses, which are refused always")
        networks.append(str(network))
    return tuple(networks)


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's lists (see the module's docstring); networks as CIDR text, so settings that
    hold a policy stay plain data."""

    key_variables: tuple[str, ...] = DEFAULT_KEY_VARIABLES
    hosts: tuple[str, ...] = DEFAULT_HOSTS
    private_networks: tuple[str, ...] = ()

    @classmethod
    def parse(cls, key_variables: str = "", hosts: str = "", private_networks: str = "") -> "EgressPolicy":
        """The policy from the variables' comma-separated values (empty: the default)."""
        variables = tuple(_items(key_variables)) or DEFAULT_KEY_VARIABLES
        bad = [v for v in variables if not ENV_NAME.match(v)]
        if bad:
            raise EgressSettingError(f"{KEY_VARIABLES_VAR}: {', '.join(bad)} are not variable names")
        names = tuple(h.lower().rstrip(".") for h in _items(hosts)) or DEFAULT_HOSTS
        return cls(variables, names, _networks(private_networks))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "EgressPolicy":
        """The policy the variables of ``environ`` set."""
        return cls.parse(*(settings_registry.read_or(name, "", environ)
                            for name in (KEY_VARIABLES_VAR, HOSTS_VAR, PRIVATE_NETWORKS_VAR)))

    def key_problem(self, variable: str | None) -> str | None:
        """Why a model may not read its key from ``variable``, or None."""
        if variable is None or variable in self.key_variables:
            return None
        return (f"api_key_env {variable} is not one of the key variables the operator allows "
                f"({', '.join(self.key_variables)}; set by {KEY_VARIABLES_VAR})")

    def url_problem(self, url: str, keyed: bool) -> str | None:
        """Why a model (sending a key or not) may not call ``url``, as far as the URL alone tells;
        the addresses a name resolves to are checked by :meth:`address_problem` at call time."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".")
        except ValueError:  # a malformed IPv6 literal
            return f"base_url must be an http(s):// URL with a host, got {url!r}"
        if parts.scheme not in {"http", "https"} or not host:
            return f"base_url must be an http(s):// URL with a host, got {url!r}"
        if parts.username is not None or parts.password is not None:
            return "base_url must not carry credentials (user:password@)"
        if parts.query or parts.fragment or "?" in url or "#" in url:
            # the client appends its path after the base URL: a query would aim it at any endpoint
            return "base_url must not carry a query or a fragment (?…, #…)"
        if host in METADATA_HOSTS:
            return f"{host} is a cloud metadata service: refused always"
        literal = ip_of(host)
        refused = always_refused(literal) if literal else None
        if refused:
            return f"{host} is {refused}: refused always"
        if keyed:
            return self._keyed_url_problem(parts.scheme, host, literal)
        if host in self.hosts or host == "localhost" or literal is None or self._private(literal, False):
            return None
        return f"a keyless model may not call {host}: {self._allowed_text(False)}"

    def _keyed_url_problem(self, scheme: str, host: str, literal: IpAddress | None) -> str | None:
        if host not in self.hosts:
            return f"a model that sends a key may not call {host}: {self._allowed_text(True)}"
        if scheme != "https" and not (literal and literal.is_loopback):
            return f"a model that sends a key must call https://{host}, not http"
        return None

    def address_problem(self, host: str, address: IpAddress, keyed: bool, scheme: str) -> str | None:
        """Why a call to ``host`` may not connect to ``address`` (one it resolved to), or None."""
        refused = always_refused(address)
        if refused:
            return f"{host} resolves to {address}, {refused}: refused always"
        if keyed and scheme != "https" and not address.is_loopback:
            return f"{host} resolves to {address}: a key goes over plain http only to loopback"
        if self._private(address, keyed):
            return None
        if address.is_global and host.rstrip(".").lower() in self.hosts:
            return None
        return f"{host} resolves to {address}: {self._allowed_text(keyed)}"

    def _private(self, address: IpAddress, keyed: bool) -> bool:
        """In the operator's private networks (keyless models: loopback too)."""
        return (not keyed and address.is_loopback) or any(
            address in ipaddress.ip_network(n) for n in self.private_networks)

    def _allowed_text(self, keyed: bool) -> str:
        networks = ", ".join(self.private_networks) or "none"
        if keyed:
            return (f"a key goes only to the hosts of {HOSTS_VAR} ({', '.join(self.hosts)}) at public "
                    f"addresses or in {PRIVATE_NETWORKS_VAR} ({networks})")
        return (f"keyless models call the hosts of {HOSTS_VAR} ({', '.join(self.hosts)}), loopback, or "
                f"addresses in {PRIVATE_NETWORKS_VAR} ({networks})")

    def model_problem(self, provider: str, base_url: str | None, api_key_env: str | None) -> str | None:
        """Why a registry row may not be saved (its key variable, then its URL), or None."""
        variable = key_variable(provider, api_key_env)
        problem = self.key_problem(variable)
        if problem or provider not in CALLING_PROVIDERS or not base_url:
            return problem
        return self.url_problem(base_url, variable is not None)
