"""The demo's self-signed certificate: valid for TLS, names the machine, matches its key, made once."""

from __future__ import annotations

import socket
import ssl
import stat
import subprocess
import threading

from workers import tls

HOST = "gw-demo-host"
LAN = "192.168.31.23"


def _handshake(files: tls.TlsFiles, server_hostname: str) -> dict:
    """A real TLS handshake against the pair, trusting the certificate and checking the name."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(files.cert), str(files.key))
    client_ctx = ssl.create_default_context(cafile=str(files.cert))  # check_hostname and CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    errors: list[BaseException] = []

    def serve():
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as s:
                s.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=server_hostname) as s:
                assert s.recv(2) == b"ok"
                return s.getpeercert()
    finally:
        th.join(5)
        listener.close()
        assert not errors


def test_certificate_is_valid_names_the_machine_and_is_reused(tmp_path):
    d = tmp_path / "tls"
    first = tls.ensure_self_signed(d, hostname=HOST, addresses=[LAN])
    assert first.created and first.cert == d / "cert.pem" and first.key == d / "key.pem"
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    dns, ips = tls.cert_names(first.cert)
    assert dns == {HOST, "localhost"} and ips == {"127.0.0.1", LAN}
    assert tls.key_matches(first.cert, first.key)
    # Valid now and for more than a year (openssl -checkend answers 0 when it does not expire in time).
    year = subprocess.run(["openssl", "x509", "-in", str(first.cert), "-noout", "-checkend", str(365 * 86400)])
    assert year.returncode == 0
    for name in (HOST, "127.0.0.1", "localhost", LAN):
        peer = _handshake(first, name)
        assert ("DNS", HOST) in peer["subjectAltName"] and ("IP Address", LAN) in peer["subjectAltName"]
    fp = first.fingerprint()
    assert len(fp) == 95 and fp.count(":") == 31

    cert_bytes, key_bytes = first.cert.read_bytes(), first.key.read_bytes()
    again = tls.ensure_self_signed(d, hostname=HOST, addresses=[LAN])
    assert not again.created
    assert (again.cert.read_bytes(), again.key.read_bytes()) == (cert_bytes, key_bytes)
    assert again.fingerprint() == fp


def test_a_new_address_or_a_foreign_key_makes_a_new_certificate(tmp_path):
    d = tmp_path / "tls"
    first_fp = tls.ensure_self_signed(d, hostname=HOST, addresses=[LAN]).fingerprint()
    moved = tls.ensure_self_signed(d, hostname=HOST, addresses=["10.0.0.7"])  # another Wi-Fi
    assert moved.created and tls.cert_names(moved.cert)[1] == {"127.0.0.1", "10.0.0.7"}
    moved_fp = moved.fingerprint()
    other = tls.ensure_self_signed(tmp_path / "other", hostname=HOST, addresses=["10.0.0.7"])
    moved.key.write_bytes(other.key.read_bytes())  # a key that is not the certificate's
    assert not tls.key_matches(moved.cert, moved.key)
    fixed = tls.ensure_self_signed(d, hostname=HOST, addresses=["10.0.0.7"])
    assert fixed.created and tls.key_matches(fixed.cert, fixed.key)
    assert len({first_fp, moved_fp, fixed.fingerprint()}) == 3


def test_lan_addresses_are_not_loopback():
    addrs = tls.lan_addresses()
    assert all(not a.startswith("127.") for a in addrs)
    assert len(addrs) == len(set(addrs))
