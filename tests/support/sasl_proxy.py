#!/usr/bin/env python3
"""A SASL front for a Kafka-compatible broker that has no SASL of its own
(tansu), for the end-to-end tests: it authenticates each connection as a
SASL_PLAINTEXT broker does, then relays it byte for byte to the broker.

Mechanisms: PLAIN; SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, the proof
checked and the server's signature sent, which librdkafka verifies); and
OAUTHBEARER with tokens from this proxy's own OAuth token endpoint
(--token-port: `POST /token`, the client credentials grant, client id and
secret as a user and password, a JWT signed with a key of this process),
as `sasl.oauthbearer.method=oidc` fetches them. A broker checks a token's
signature and expiry; so does this proxy.

Per connection: ApiVersions requests are relayed (tansu lists SaslHandshake
and SaslAuthenticate); SaslHandshake v1 and SaslAuthenticate v0-v2 are
answered here; any other request before a successful authentication closes
the connection, as a SASL listener does. Each attempt is appended to --log
as `ok USER MECHANISM` or `refused USER MECHANISM`, each token request as
`token CLIENT` or `token refused CLIENT`.

    sasl_proxy.py --listen 9093 --backend 9092 --users alice:secret,bob:pw --log auth.log [--token-port 9094]
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM, UNSUPPORTED_VERSION = 58, 33, 35
SCRAM_HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}
MECHANISMS = ["PLAIN", *SCRAM_HASHES, "OAUTHBEARER"]
SCRAM_ITERATIONS = 4096


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    """Issues and checks the JWTs of the token endpoint (HS256, a key of
    this process), as an OAuth server and a broker that trusts it do."""

    def __init__(self):
        self.key = os.urandom(32)

    def sign(self, header_payload):
        return b64url(hmac.new(self.key, header_payload.encode(), hashlib.sha256).digest())

    def issue(self, subject, lifetime=3600):
        now = int(time.time())
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps({"sub": subject, "iat": now, "exp": now + lifetime}).encode())
        return f"{header}.{payload}.{self.sign(header + '.' + payload)}"

    def subject(self, token):
        """The token's subject if this process signed it and it is not
        expired, else None."""
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self.sign(parts[0] + "." + parts[1])):
            return None
        claims = json.loads(unb64url(parts[1]))
        return claims.get("sub") if claims.get("exp", 0) > time.time() else None


def uvarint(b, off):
    """An unsigned varint of b at off: (value, next offset)."""
    value = shift = 0
    while True:
        byte = b[off]
        off += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, off
        shift += 7


def put_uvarint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def body_offset(frame, flexible):
    """Where a request's body starts: after api key, version, correlation
    id, client id (a nullable int16 string in every header version) and,
    in a flexible header, its tagged fields."""
    (client_id_len,) = struct.unpack_from(">h", frame, 8)
    off = 10 + max(client_id_len, 0)
    if flexible:
        count, off = uvarint(frame, off)
        for _ in range(count):
            _tag, off = uvarint(frame, off)
            size, off = uvarint(frame, off)
            off += size
    return off


def framed(payload):
    return struct.pack(">i", len(payload)) + payload


async def read_frame(reader):
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


class Exchange:
    """One connection's SASL exchange: the mechanism its handshake chose,
    and a SCRAM exchange's state between its two messages."""

    def __init__(self):
        self.mechanism = None
        self.scram = None


class Proxy:
    def __init__(self, backend, users, log, tokens):
        self.backend = backend
        self.users = users
        self.log = log
        self.tokens = tokens

    def record(self, line):
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def handshake(self, frame, corr, exchange):
        (length,) = struct.unpack_from(">h", frame, body_offset(frame, False))
        start = body_offset(frame, False) + 2
        mechanism = frame[start:start + length].decode("utf-8", "replace")
        ok = mechanism in MECHANISMS
        exchange.mechanism = mechanism if ok else None
        listed = struct.pack(">i", len(MECHANISMS)) + b"".join(
            struct.pack(">h", len(m)) + m.encode() for m in MECHANISMS
        )
        error = 0 if ok else UNSUPPORTED_SASL_MECHANISM
        return framed(struct.pack(">ih", corr, error) + listed), ok

    def judge(self, token, exchange):
        """(reply bytes, done, refusal message or None) for one
        SaslAuthenticate token."""
        mechanism = exchange.mechanism
        if mechanism == "PLAIN":
            # authzid NUL authcid NUL password
            parts = token.split(b"\0")
            user = parts[1].decode("utf-8", "replace") if len(parts) == 3 else "?"
            ok = len(parts) == 3 and self.users.get(user) == parts[2].decode("utf-8", "replace")
            return self.outcome(user, ok, b"", mechanism)
        if mechanism == "OAUTHBEARER":
            # GS2 header, then key=value pairs separated by 0x01: auth=Bearer TOKEN
            fields = dict(
                kv.split("=", 1) for kv in token.decode("utf-8", "replace").split("\x01")[1:] if "=" in kv
            )
            bearer = fields.get("auth", "")
            subject = self.tokens.subject(bearer[7:]) if bearer.startswith("Bearer ") else None
            return self.outcome(subject or "?", subject is not None, b"", mechanism)
        return self.scram_step(token, exchange)

    def scram_step(self, token, exchange):
        digest = SCRAM_HASHES[exchange.mechanism]
        text = token.decode("utf-8", "replace")
        if exchange.scram is None:
            # client-first: gs2 header, then n=USER,r=NONCE
            gs2, _, bare = text.partition(",,")
            attrs = dict(a.split("=", 1) for a in bare.split(",") if "=" in a)
            user = attrs.get("n", "?").replace("=2C", ",").replace("=3D", "=")
            salt = os.urandom(16)
            nonce = attrs.get("r", "") + b64url(os.urandom(18))
            first = f"r={nonce},s={base64.b64encode(salt).decode()},i={SCRAM_ITERATIONS}"
            exchange.scram = (user, salt, bare, first, gs2 + ",,")
            return first.encode(), False, None
        user, salt, client_first_bare, server_first, gs2 = exchange.scram
        without_proof, _, proof = text.rpartition(",p=")
        password = self.users.get(user)
        if password is None:
            return self.outcome(user, False, b"", exchange.mechanism)
        salted = hashlib.pbkdf2_hmac(digest().name, password.encode(), salt, SCRAM_ITERATIONS)
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(digest(client_key).digest(), auth_message, digest).digest()
        expected = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        channel = f"c={base64.b64encode(gs2.encode()).decode()},"
        nonce_ok = f"r={server_first[2:].split(',')[0]}" in without_proof
        ok = hmac.compare_digest(proof, expected) and without_proof.startswith(channel) and nonce_ok
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        final = b"v=" + base64.b64encode(hmac.new(server_key, auth_message, digest).digest())
        return self.outcome(user, ok, final, exchange.mechanism)

    def outcome(self, user, ok, reply, mechanism):
        self.record(f"{'ok' if ok else 'refused'} {user} {mechanism}")
        if ok:
            return reply, True, None
        return b"", True, f"Authentication failed: invalid credentials with SASL mechanism {mechanism}"

    def authenticate(self, frame, version, corr, exchange):
        flexible = version >= 2
        off = body_offset(frame, flexible)
        if flexible:
            size, off = uvarint(frame, off)
            token = frame[off:off + size - 1]
        else:
            (size,) = struct.unpack_from(">i", frame, off)
            token = frame[off + 4:off + 4 + size]
        reply, done, refusal = self.judge(bytes(token), exchange)
        error = 0 if refusal is None else SASL_AUTHENTICATION_FAILED
        if flexible:
            header = struct.pack(">i", corr) + put_uvarint(0)
            msg = put_uvarint(0) if refusal is None else put_uvarint(len(refusal) + 1) + refusal.encode()
            body = struct.pack(">h", error) + msg + put_uvarint(len(reply) + 1) + reply
            body += struct.pack(">q", 0) + put_uvarint(0)
        else:
            header = struct.pack(">i", corr)
            msg = struct.pack(">h", -1) if refusal is None else struct.pack(">h", len(refusal)) + refusal.encode()
            body = struct.pack(">h", error) + msg + struct.pack(">i", len(reply)) + reply
            if version == 1:
                body += struct.pack(">q", 0)
        # (authenticated, keep the connection)
        return framed(header + body), done and refusal is None, refusal is None

    async def serve(self, client_reader, client_writer):
        backend_writer = None
        exchange = Exchange()
        try:
            backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", self.backend)
            authenticated = False
            while not authenticated:
                frame = await read_frame(client_reader)
                api_key, version, corr = struct.unpack_from(">hhi", frame, 0)
                if api_key == API_VERSIONS:
                    backend_writer.write(framed(frame))
                    await backend_writer.drain()
                    client_writer.write(framed(await read_frame(backend_reader)))
                elif api_key == SASL_HANDSHAKE and version == 1:
                    answer, ok = self.handshake(frame, corr, exchange)
                    client_writer.write(answer)
                    if not ok:
                        break
                elif api_key == SASL_AUTHENTICATE and version <= 2 and exchange.mechanism:
                    answer, authenticated, going_on = self.authenticate(frame, version, corr, exchange)
                    client_writer.write(answer)
                    if not going_on:
                        break
                else:
                    # a client that does not authenticate is not served
                    self.record(f"unauthenticated request {api_key}")
                    break
                await client_writer.drain()
            await client_writer.drain()
            if authenticated:
                await asyncio.gather(
                    relay(client_reader, backend_writer), relay(backend_reader, client_writer)
                )
        except (asyncio.IncompleteReadError, ConnectionError, struct.error, IndexError, ValueError):
            pass
        finally:
            for w in (client_writer, backend_writer):
                if w is not None:
                    w.close()


def token_endpoint(port, users, tokens, record):
    """`POST /token` with the client credentials grant, the client id and
    secret in HTTP Basic authentication (as librdkafka sends them)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            basic = self.headers.get("Authorization", "")
            client, _, secret = (
                base64.b64decode(basic[6:]).decode("utf-8", "replace") if basic.startswith("Basic ") else ""
            ).partition(":")
            if "grant_type=client_credentials" in body and users.get(client) == secret and secret:
                record(f"token {client}")
                self.answer(200, {"access_token": tokens.issue(client), "token_type": "bearer", "expires_in": 3600})
            else:
                record(f"token refused {client or '?'}")
                self.answer(401, {"error": "invalid_client"})

        def answer(self, status, doc):
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


async def relay(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--backend", type=int, required=True)
    ap.add_argument("--users", required=True, help="user:password,...")
    ap.add_argument("--log", required=True)
    ap.add_argument("--token-port", type=int, help="serve the OAuth token endpoint here")
    args = ap.parse_args()
    users = dict(u.split(":", 1) for u in args.users.split(","))
    tokens = Tokens()
    proxy = Proxy(args.backend, users, args.log, tokens)
    if args.token_port:
        token_endpoint(args.token_port, users, tokens, proxy.record)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", args.listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
