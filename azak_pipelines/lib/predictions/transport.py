"""An HTTP transport that connects only where the egress policy allows, to the address it checked.

Each request's host is resolved when the request is sent; every address it resolves to is checked
(:meth:`azak_core.egress.EgressPolicy.address_problem`) and the connection goes to one of them,
the name kept in the ``Host`` header and as the TLS server name (certificates are verified against
the name). A name that resolved to an allowed address when it was checked cannot make the
connection go elsewhere (DNS rebinding): there is no second lookup.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from azak_core.egress import EgressPolicy, IpAddress, ip_of

Resolver = Callable[[str, int], Awaitable[list[IpAddress]]]


class EgressRefused(httpx.ConnectError):
    """The policy refuses the request's URL or an address its host resolves to."""


async def system_resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to (an address resolves to itself)."""
    literal = ip_of(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = [ip_of(str(info[4][0]).split("%")[0]) for info in infos]
    return list(dict.fromkeys(a for a in found if a is not None))


class PinnedTransport(httpx.AsyncBaseTransport):
    """Checks, then connects to the checked address (see the module's docstring)."""

    def __init__(self, policy: EgressPolicy, keyed: bool, resolve: Resolver = system_resolve,
                 **transport_options: Any):
        self.policy, self.keyed, self.resolve = policy, keyed, resolve
        self._inner = httpx.AsyncHTTPTransport(**transport_options)

    async def _checked_addresses(self, url: httpx.URL) -> list[IpAddress]:
        problem = self.policy.url_problem(str(url), self.keyed)
        if problem:
            raise EgressRefused(problem)
        addresses = await self.resolve(url.host, url.port or (443 if url.scheme == "https" else 80))
        if not addresses:
            raise EgressRefused(f"{url.host} resolves to no address")
        for address in addresses:
            problem = self.policy.address_problem(url.host, address, self.keyed, url.scheme)
            if problem:
                raise EgressRefused(problem)
        return addresses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Sends to the checked addresses in turn until one accepts the connection (a name may
        resolve to an IPv6 address its server does not listen on)."""
        url = request.url
        addresses = await self._checked_addresses(url)
        request.extensions = {**request.extensions, "sni_hostname": url.host}
        for address in addresses[:-1]:
            try:
                return await self._send(request, url.copy_with(host=str(address)))
            except httpx.ConnectError:
                continue
        return await self._send(request, url.copy_with(host=str(addresses[-1])))

    async def _send(self, request: httpx.Request, pinned: httpx.URL) -> httpx.Response:
        request.url = pinned
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
