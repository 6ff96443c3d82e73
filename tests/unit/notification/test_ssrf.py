"""The SSRF guard refuses non-public targets (with a fake resolver: pure logic, no network)."""
import ipaddress
import socket

import pytest

from services.notification.ssrf import UnsafeTarget, allowlist_entries, check_url, is_forbidden
from shared.config import load_settings


def resolver_for(*addresses):
    def resolve(host, port, proto=0):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, proto, "", (a, port))
                for a in addresses]
    return resolve


def real(host, port, proto=0):
    return socket.getaddrinfo(host, port, proto=proto)


SSRF_CORPUS = [
    "http://127.0.0.1/", "http://[::1]/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/",
    "http://127.1/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://10.255.255.255/",
    "http://172.16.0.1/", "http://172.31.255.254/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://100.127.255.254/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://224.0.0.1/", "http://localhost:8080/",
]


@pytest.mark.parametrize("url", SSRF_CORPUS)
def test_corpus_refused(url):
    with pytest.raises(UnsafeTarget):
        check_url(url, (), resolver=real)


def test_name_resolving_to_private_address_refused():
    with pytest.raises(UnsafeTarget, match="10.1.2.3"):
        check_url("https://hooks.example.com/x", (), resolver=resolver_for("10.1.2.3"))


def test_any_private_answer_refuses_the_host():
    with pytest.raises(UnsafeTarget):
        check_url("https://hooks.example.com/x", (), resolver=resolver_for("93.184.215.14", "127.0.0.1"))


def test_public_target_is_pinned_to_the_checked_address():
    target = check_url("https://hooks.example.com:8443/in?x=1", (), resolver=resolver_for("93.184.215.14"))
    assert (target.ip, target.port, target.host, target.path) == ("93.184.215.14", 8443, "hooks.example.com", "/in?x=1")
    assert target.host_header == "hooks.example.com:8443"


def test_allowlist_opens_loopback_only():
    allow = (ipaddress.ip_network("127.0.0.1/32"),)
    assert check_url("http://127.0.0.1:9000/h", allow, resolver=real).ip == "127.0.0.1"
    with pytest.raises(UnsafeTarget):
        check_url("http://10.0.0.1/", allow, resolver=real)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/", "http:///nohost"])
def test_bad_schemes_and_forms(url):
    with pytest.raises(UnsafeTarget):
        check_url(url, (), resolver=resolver_for("93.184.215.14"))


def test_is_forbidden_mapped_ipv6():
    assert is_forbidden(ipaddress.ip_address("::ffff:169.254.169.254"))
    assert not is_forbidden(ipaddress.ip_address("93.184.215.14"))


def test_host_port_pairs_let_exactly_that_port_through():
    from shared.config import load_settings

    allow = load_settings({"DATA_DIR": "/tmp/unused-allowlist", "API_TOKEN": "t", "SECRET_KEY": "s",
                           "INBOUND_WEBHOOK_SECRET": "w",
                           "WEBHOOK_ALLOWLIST": "127.0.0.1:8080,hooks.internal:8443"}).webhook_allowlist
    assert check_url("http://127.0.0.1:8080/hook", allow, resolver_for("127.0.0.1")).ip == "127.0.0.1"
    with pytest.raises(UnsafeTarget):
        check_url("http://127.0.0.1:8081/hook", allow, resolver_for("127.0.0.1"))
    assert check_url("https://hooks.internal:8443/x", allow, resolver_for("10.1.2.3")).ip == "10.1.2.3"
    with pytest.raises(UnsafeTarget):
        check_url("https://hooks.internal/x", allow, resolver_for("10.1.2.3"))
    with pytest.raises(UnsafeTarget):
        check_url("https://other.internal:8443/x", allow, resolver_for("10.1.2.3"))


def test_the_allowlist_is_told_entry_by_entry(tmp_path):
    assert allowlist_entries(()) == ""
    allowlist = load_settings({"DATA_DIR": str(tmp_path),
                               "WEBHOOK_ALLOWLIST": "127.0.0.1/32,10.0.0.0/8:443,[::1]:9000,hooks.internal:8443"}
                              ).webhook_allowlist
    assert allowlist_entries(allowlist) == "127.0.0.1/32 (any port), 10.0.0.0/8:443, [::1]:9000, hooks.internal:8443"
